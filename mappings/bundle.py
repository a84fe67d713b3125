"""A read-only view of an event Bundle that never raises on a malformed document.

Rule checks run even when the JSON Schema already found errors (the EPD gets every issue
at once), so every accessor tolerates wrong types and answers ``None`` instead.
Each value travels with its JSON path, from which ``fhirpath`` renders the expression.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from mappings import fhirpath
from mappings.fhirpath import Segment
from mappings.vocabulary import CARE_TEAM_ROLE_SYSTEM, SUPPORTING_INFO_SYSTEM


class Node(NamedTuple):
    """An element of the event (or ``None`` when absent) and its JSON path.

    A named tuple rather than a frozen dataclass: validation and mapping make hundreds of
    nodes per event, and a tuple is several times cheaper to create.
    """

    value: Any
    path: tuple[Segment, ...]

    def child(self, key: str) -> Node:
        """The member ``key`` of this object (a node with value ``None`` if absent)."""
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return Node(value, (*self.path, key))

    def items(self) -> Iterator[Node]:
        """The elements of this array (nothing if it is not an array)."""
        if isinstance(self.value, list):
            for index, value in enumerate(self.value):
                yield Node(value, (*self.path, index))

    @property
    def text(self) -> str | None:
        """The value if it is a non-blank string."""
        return self.value if isinstance(self.value, str) and self.value.strip() else None

    @property
    def present(self) -> bool:
        """Whether the element exists."""
        return self.value is not None


class EventBundle:
    """Accessors for the parts of an event that the rules and the mappers read."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.root = Node(document, ())

    def expression(self, node: Node | tuple[Segment, ...]) -> str:
        """The FHIRPath expression of a node (or of a JSON path)."""
        return fhirpath.render(self.document, node.path if isinstance(node, Node) else node)

    def resources(self, resource_type: str) -> list[Node]:
        """Every resource of ``resource_type`` in the Bundle's entries."""
        found = []
        for entry in self.root.child("entry").items():
            resource = entry.child("resource")
            if resource.child("resourceType").value == resource_type:
                found.append(resource)
        return found

    def single(self, resource_type: str) -> Node | None:
        """The resource of ``resource_type`` if the Bundle holds exactly one."""
        found = self.resources(resource_type)
        return found[0] if len(found) == 1 else None

    @property
    def header(self) -> Node | None:
        """The MessageHeader, which a FHIR message carries as its first entry."""
        for entry in self.root.child("entry").items():
            resource = entry.child("resource")
            return resource if resource.child("resourceType").value == "MessageHeader" else None
        return None

    def focus(self) -> Node | None:
        """The resource that ``MessageHeader.focus[0]`` references by its entry's fullUrl."""
        header = self.header
        if header is None:
            return None
        focus = next(header.child("focus").items(), None)
        reference = focus.child("reference").text if focus is not None else None
        if reference is None:
            return None
        for entry in self.root.child("entry").items():
            if entry.child("fullUrl").value == reference:
                resource = entry.child("resource")
                return resource if isinstance(resource.value, dict) else None
        return None

    def full_url(self, resource: Node) -> str | None:
        """The ``fullUrl`` of the entry that holds ``resource``."""
        index = resource.path[1] if len(resource.path) == 3 else None
        entries = self.root.child("entry").value
        if not isinstance(index, int) or not isinstance(entries, list):
            return None
        entry = entries[index]
        url = entry.get("fullUrl") if isinstance(entry, dict) else None
        return url if isinstance(url, str) else None

    @staticmethod
    def identifier(resource: Node, system: str) -> Node | None:
        """The value node of the resource's identifier with ``system`` (the first one)."""
        for identifier in resource.child("identifier").items():
            if identifier.child("system").value == system:
                return identifier.child("value")
        return None

    @staticmethod
    def supporting_info(claim: Node, category: str) -> list[Node]:
        """The ``Claim.supportingInfo`` items of a category of the project's CodeSystem."""
        return _coded_items(
            claim.child("supportingInfo"), "category", category, SUPPORTING_INFO_SYSTEM
        )

    @staticmethod
    def care_team(claim: Node, role: str) -> list[Node]:
        """The ``Claim.careTeam`` members with a role of the project's CodeSystem."""
        return _coded_items(claim.child("careTeam"), "role", role, CARE_TEAM_ROLE_SYSTEM)


def _coded_items(array: Node, concept_key: str, code: str, system: str) -> list[Node]:
    # Called a dozen times per event over the same arrays: reads the raw values, making a
    # node only for the items it returns.
    found = []
    for item in array.items():
        concept = item.value.get(concept_key) if isinstance(item.value, dict) else None
        codings = concept.get("coding") if isinstance(concept, dict) else None
        if isinstance(codings, list) and any(
            isinstance(coding, dict)
            and coding.get("code") == code
            and coding.get("system") == system
            for coding in codings
        ):
            found.append(item)
    return found


def coding_code(concept: Node, system: str | None = None) -> Node | None:
    """The code node of the first coding of a CodeableConcept (with ``system`` if given)."""
    for coding in concept.child("coding").items():
        if system is None or coding.child("system").value == system:
            return coding.child("code")
    return None
