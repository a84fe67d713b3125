"""FHIRPath pointers at elements of an event, so every issue names its field one way.

Convention (documented in docs/events.md): an expression starts at the resource type
(``Claim.billablePeriod.end``), not at the Bundle entry index, because the EPD knows its
resources by type; repeating elements that carry a discriminator are selected by it
(``Patient.identifier.where(system='…ssin').value``,
``Claim.supportingInfo.where(category.coding.code='location').valueString``,
``MessageHeader.extension('urn:vsb-adapter:fhir:sequence').valuePositiveInt``); other
repeats are indexed (``coding[0]``). Elements of the Bundle itself start at ``Bundle``.
Schema errors and rule checks render through this one module, so the same element
always gets the same expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

Segment = str | int

# A discriminator from the document is only used when it looks like a URI or a code;
# anything else (free text, possibly personal) falls back to an index. A long run of
# digits could be an INSZ typed into the wrong element, so it falls back too.
_SAFE_SELECTOR = re.compile(r"[A-Za-z0-9:/._#\-]{1,200}")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNREADABLE_NAME = "`?`"
"""How a member name that is not an element name is rendered (it could hold anything, an
INSZ among it: a name with a run of nine digits is not shown either)."""


def where(attribute: str, value: str) -> str:
    """Render a ``.where(attribute='value')`` selector."""
    return f".where({attribute}='{value}')"


def extension(url: str) -> str:
    """Render an ``.extension('url')`` selector."""
    return f".extension('{url}')"


def of_type(resource_type: str) -> str:
    """Render the expression for a resource of the Bundle that is missing or duplicated."""
    return f"Bundle.entry.resource.ofType({resource_type})"


def render(document: Mapping[str, Any], path: Sequence[Segment]) -> str:
    """Render the FHIRPath expression of the element at JSON ``path`` in ``document``.

    The path may end in elements that do not exist (a missing required element): they
    are rendered by name.
    """
    expression, node, rest = _root(document, path)
    previous: Segment | None = None
    for segment in rest:
        if isinstance(segment, int):
            element = (
                node[segment]
                if isinstance(node, list) and -len(node) <= segment < len(node)
                else None
            )
            expression = _select(expression, previous, element, segment)
            node = element
        else:
            readable = _ELEMENT_NAME.fullmatch(segment) and not _DIGIT_RUN.search(segment)
            name = segment if readable else UNREADABLE_NAME
            expression += f".{name}"
            node = node.get(segment) if isinstance(node, dict) else None
        previous = segment
    return expression


def _root(
    document: Mapping[str, Any], path: Sequence[Segment]
) -> tuple[str, Any, Sequence[Segment]]:
    entries = document.get("entry")
    if (
        len(path) >= 3
        and path[0] == "entry"
        and isinstance(path[1], int)
        and path[2] == "resource"
        and isinstance(entries, list)
        and 0 <= path[1] < len(entries)
    ):
        resource = _resource(entries[path[1]])
        kind = resource.get("resourceType") if resource is not None else None
        if isinstance(kind, str) and _RESOURCE_TYPE.fullmatch(kind) and _is_unique(entries, kind):
            return kind, resource, path[3:]
    return "Bundle", document, path


def _resource(entry: Any) -> dict[str, Any] | None:
    if isinstance(entry, dict):
        resource = entry.get("resource")
        if isinstance(resource, dict):
            return resource
    return None


def _is_unique(entries: list[Any], kind: str) -> bool:
    count = 0
    for entry in entries:
        resource = _resource(entry)
        if resource is not None and resource.get("resourceType") == kind:
            count += 1
    return count == 1


def _select(expression: str, container: Segment | None, element: Any, index: int) -> str:
    selector = _discriminator(container, element)
    if selector is None:
        return f"{expression}[{index}]"
    if container == "extension":
        return expression.removesuffix(".extension") + extension(selector[1])
    return expression + where(*selector)


def _discriminator(container: Segment | None, element: Any) -> tuple[str, str] | None:
    if not isinstance(element, dict):
        return None
    value: Any = None
    attribute = ""
    if container in ("identifier", "telecom"):
        attribute, value = "system", element.get("system")
    elif container == "extension":
        attribute, value = "url", element.get("url")
    elif container == "supportingInfo":
        attribute, value = "category.coding.code", first_code(element.get("category"))
    elif container == "careTeam":
        attribute, value = "role.coding.code", first_code(element.get("role"))
    if isinstance(value, str) and _SAFE_SELECTOR.fullmatch(value) and not _DIGIT_RUN.search(value):
        return attribute, value
    return None


def first_code(concept: Any) -> str | None:
    """Return the code of the first coding of a CodeableConcept, if it is readable."""
    if isinstance(concept, dict):
        codings = concept.get("coding")
        if isinstance(codings, list) and codings and isinstance(codings[0], dict):
            code = codings[0].get("code")
            if isinstance(code, str):
                return code
    return None
