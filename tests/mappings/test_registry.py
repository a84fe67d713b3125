"""The event type registry that the engine consults."""

from __future__ import annotations

from mappings import EVENT_TYPES, Ordering


def test_insurance_status() -> None:
    """insurance-status is an unordered look-up answered by a CoverageEligibilityResponse."""
    event_type = EVENT_TYPES["insurance-status"]
    assert event_type.ordering is Ordering.NONE
    assert event_type.message_kind == "InsuranceStatusRequest"
    assert not event_type.is_application
    assert not event_type.needs_reference
    assert event_type.answer_resource == "CoverageEligibilityResponse"


def test_reva_application() -> None:
    """reva-application is ordered per dossier and gives the dossier its VSB reference."""
    event_type = EVENT_TYPES["reva-application"]
    assert event_type.ordering is Ordering.DOSSIER
    assert event_type.message_kind == "RevaApplication"
    assert event_type.is_application
    assert not event_type.needs_reference
    assert event_type.answer_resource == "ClaimResponse"


def test_reva_stop() -> None:
    """reva-stop is ordered per dossier and needs the application's VSB reference."""
    event_type = EVENT_TYPES["reva-stop"]
    assert event_type.ordering is Ordering.DOSSIER
    assert event_type.message_kind == "RevaStop"
    assert not event_type.is_application
    assert event_type.needs_reference
    assert event_type.answer_resource == "ClaimResponse"


def test_registry_is_read_only() -> None:
    """The registry cannot be changed at run time."""
    assert not hasattr(EVENT_TYPES, "__setitem__")
