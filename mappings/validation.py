"""Full validation of an event: schema, envelope, identifiers, facility and domain rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mappings import fhirpath
from mappings.attachment import attachment_issues
from mappings.bundle import EventBundle, Node
from mappings.deadline import NO_DATES, NO_DEADLINES, EventDates, event_dates
from mappings.envelope import (
    MAX_DOSSIER_ID,
    MAX_SEQUENCE,
    header_extension,
    is_clean_key,
    read_envelope,
)
from mappings.errors import InvalidEvent
from mappings.event_schema import schema_issues
from mappings.identifiers import is_eleven_digits, is_valid_insz
from mappings.mapper import Unmappable
from mappings.message_type import Carriage, MessageType
from mappings.model import Envelope, Facility, Issue
from mappings.registry import MESSAGE_TYPES
from mappings.rules import nihdi_issue, xml_character_issues
from mappings.vocabulary import (
    DOSSIER_EXTENSION,
    HCO_SYSTEM,
    NIHDI_SYSTEM,
    SEQUENCE_EXTENSION,
    SSIN_SYSTEM,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What the checks make of one body: its envelope, its message type or its issues."""

    envelope: Envelope | None
    """None when not even the event id could be read."""
    message_type: MessageType | None
    """None for a refused event."""
    issues: tuple[Issue, ...]
    dates: EventDates = NO_DATES
    """The deadline dates of an accepted event, as its message type declares them."""


def check_event(raw: bytes, facility: Facility) -> Verdict:
    """The ingest's checks on one body, whatever it holds: never raises.

    An exception other than a refusal (a bug met by this body) is the refusal
    ``unprocessable``, so one body can never cost its neighbours their checks.
    """
    try:
        envelope = read_envelope(raw)
    except InvalidEvent as exc:
        return Verdict(None, None, exc.issues)
    except Exception as exc:
        _log.exception("reading an event failed unexpectedly")
        return Verdict(None, None, (_unprocessable(exc),))
    try:
        message_type = validate_event(envelope, facility)
        return Verdict(envelope, message_type, (), dates_of(envelope, message_type))
    except InvalidEvent as exc:
        return Verdict(envelope, None, exc.issues)
    except Exception as exc:
        _log.exception("checking event %s failed unexpectedly", envelope.event_id)
        return Verdict(envelope, None, (_unprocessable(exc),))


def dates_of(envelope: Envelope, message_type: MessageType) -> EventDates:
    """The deadline dates of an event ``validate_event`` accepted as ``message_type``."""
    deadlines = message_type.deadlines
    if deadlines is NO_DEADLINES:
        return NO_DATES  # most events: no second look at the bundle
    bundle = EventBundle(envelope.document)
    focus = bundle.focus()
    if focus is None:
        raise Unmappable("MessageHeader.focus")  # validation has refused such an event
    return event_dates(deadlines, bundle, focus)


def _unprocessable(exc: Exception) -> Issue:
    return Issue(
        "unprocessable",
        f"The adapter could not check this event ({exc.__class__.__name__}).",
        None,
    )


def validate_event(envelope: Envelope, facility: Facility) -> MessageType:
    """Check an event against the whole contract and return its message type.

    Collects every issue before raising ``InvalidEvent(issues)``, so the EPD can fix the
    event in one go. ``facility`` is the facility this adapter instance signs for: the
    event's Organization must be that facility.
    """
    bundle = EventBundle(envelope.document)
    event_type = MESSAGE_TYPES.get(envelope.event_code or "")
    issues = list(envelope.issues)
    issues.extend(schema_issues(envelope.document, event_type.code if event_type else None))
    issues.extend(_event_code_issues(bundle, envelope))
    issues.extend(_dossier_issues(bundle))
    if event_type is None or event_type.carriage is not Carriage.BATCH:
        # A batch names no user: each of its invoices, sent before it, names its own.
        issues.extend(_patient_issues(bundle))
    issues.extend(_facility_issues(bundle, facility))
    if event_type is not None:
        issues.extend(_focus_issues(bundle, event_type))
    unique: dict[tuple[str, str | None], Issue] = {}
    for issue in issues:
        unique.setdefault((issue.code, issue.expression), issue)
    if event_type is None and not unique:
        # Only reachable if the schema let an unreadable code through; never accept it.
        expression = "MessageHeader.eventCoding.code"
        unique[("required", expression)] = Issue(
            "required", f"{expression} is required.", expression
        )
    if unique or event_type is None:
        raise InvalidEvent(list(unique.values()))
    return event_type


def _event_code_issues(bundle: EventBundle, envelope: Envelope) -> list[Issue]:
    header = bundle.header
    code = envelope.event_code
    if header is None or code is None or code in MESSAGE_TYPES:
        return []
    expression = bundle.expression(header.child("eventCoding").child("code"))
    known = ", ".join(sorted(MESSAGE_TYPES))
    return [
        Issue("unknown-event", f"{expression} is not a known event code ({known}).", expression)
    ]


def _dossier_issues(bundle: EventBundle) -> list[Issue]:
    header = bundle.header
    if header is None:
        return []
    issues = []
    for url, key, code, rule in (
        (
            DOSSIER_EXTENSION,
            "valueString",
            "dossier-id",
            f"must be one non-blank text of at most {MAX_DOSSIER_ID} characters without "
            "surrounding spaces, in Unicode NFC, without control, zero-width or "
            "bidirectional characters",
        ),
        (
            SEQUENCE_EXTENSION,
            "valuePositiveInt",
            "sequence",
            f"must be one integer from 1 to {MAX_SEQUENCE}",
        ),
    ):
        found = header_extension(bundle, url)
        expression = bundle.expression(header.child("extension")).removesuffix(".extension")
        expression += f"{fhirpath.extension(url)}.{key}"
        if not found:
            issues.append(Issue("required", f"{expression} is required.", expression))
        elif not _well_formed(found, key, code):
            issues.append(Issue(code, f"{expression} {rule}.", expression))
    return issues


def _well_formed(found: list[Node], key: str, code: str) -> bool:
    if len(found) != 1:
        return False
    value = found[0].child(key).value
    if code == "sequence":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SEQUENCE
    return isinstance(value, str) and is_clean_key(value)


def _count_issues(bundle: EventBundle, resource_type: str) -> list[Issue]:
    count = len(bundle.resources(resource_type))
    if count == 1:
        return []
    expression = fhirpath.of_type(resource_type)
    if count == 0:
        return [Issue("required", f"{expression}: one {resource_type} is required.", expression)]
    return [Issue("duplicate", f"{expression}: only one {resource_type} is allowed.", expression)]


def _patient_issues(bundle: EventBundle) -> list[Issue]:
    issues = _count_issues(bundle, "Patient")
    patient = bundle.single("Patient")
    if patient is None or not isinstance(patient.child("identifier").value, list):
        return issues
    value = bundle.identifier(patient, SSIN_SYSTEM)
    if value is None:
        expression = bundle.expression(patient.child("identifier"))
        expression += fhirpath.where("system", SSIN_SYSTEM) + ".value"
        issues.append(Issue("required", f"{expression} (INSZ or BIS) is required.", expression))
    elif is_eleven_digits(value.value) and not is_valid_insz(value.value):
        expression = bundle.expression(value)
        text = f"{expression} is not a valid INSZ or BIS number (birth date or check digits)."
        issues.append(Issue("insz-check-digit", text, expression))
    return issues


def _facility_issues(bundle: EventBundle, facility: Facility) -> list[Issue]:
    issues = _count_issues(bundle, "Organization")
    organization = bundle.single("Organization")
    if organization is None or not isinstance(organization.child("identifier").value, list):
        return issues
    for system, expected, label in (
        (NIHDI_SYSTEM, facility.nihdi, "NIHDI"),
        (HCO_SYSTEM, facility.hco, "HCO"),
    ):
        value = bundle.identifier(organization, system)
        if value is None:
            expression = bundle.expression(organization.child("identifier"))
            expression += fhirpath.where("system", system) + ".value"
            text = f"{expression} ({label} number) is required."
            issues.append(Issue("required", text, expression))
            continue
        invalid = nihdi_issue(bundle, value) if system == NIHDI_SYSTEM else None
        if invalid is not None:
            issues.append(invalid)
        elif isinstance(value.value, str) and value.value != expected:
            expression = bundle.expression(value)
            text = f"{expression} must be the {label} number of the facility this adapter serves."
            issues.append(Issue("facility-mismatch", text, expression))
    return issues


def _focus_issues(bundle: EventBundle, event_type: MessageType) -> list[Issue]:
    header = bundle.header
    first = next(header.child("focus").items(), None) if header is not None else None
    if first is None or first.child("reference").text is None:
        return []  # the schema names the missing focus
    mapper = event_type.request
    focus = bundle.focus()
    expression = bundle.expression(first.child("reference"))
    if focus is None:
        text = f"{expression} must be the fullUrl of an entry of the Bundle."
        return [Issue("focus", text, expression)]
    if focus.child("resourceType").value != mapper.focus_type:
        text = f"{expression} must reference a {mapper.focus_type} for event {event_type.code}."
        return [Issue("focus", text, expression)]
    mapped = [focus, *header_extension(bundle, DOSSIER_EXTENSION)]
    organization = bundle.single("Organization")
    if organization is not None:
        mapped.append(organization.child("contact"))
    return [
        *_patient_reference_issues(bundle, focus),
        *mapper.check(bundle, focus),
        *attachment_issues(bundle, focus),
        *xml_character_issues(bundle, mapped),
    ]


def _patient_reference_issues(bundle: EventBundle, focus: Node) -> list[Issue]:
    patient = bundle.single("Patient")
    reference = focus.child("patient").child("reference")
    if patient is None or reference.text is None or reference.text == bundle.full_url(patient):
        return []
    expression = bundle.expression(reference)
    return [
        Issue("reference", f"{expression} must be the fullUrl of the Patient entry.", expression)
    ]
