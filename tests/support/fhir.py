"""FHIR R4 conformance for tests: every resource parsed by a model library.

fhir.resources' R4B models (FHIR 4.3, the same as R4 for every resource the contract uses:
Bundle, MessageHeader, Claim, ClaimResponse, CoverageEligibilityRequest/Response, Patient,
Organization, OperationOutcome) check cardinalities, types, primitive formats and unknown
elements. A Bundle's entries are parsed one by one by their own type.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class


def parse_r4(document: dict[str, Any]) -> None:
    """Raise if ``document`` (a resource, or a Bundle and each entry's resource) is not FHIR."""
    resource_type = document["resourceType"]
    get_fhir_model_class(resource_type).model_validate(document)
    if resource_type == "Bundle":
        for entry in document.get("entry", []):
            parse_r4(entry["resource"])
