"""The VSB request messages as the simulator reads them (vsb-1.0.xsd).

``read_message`` turns a schema-valid, signature-checked payload into one of the typed
requests below: the look-up, the REVA application, and every modification of an accepted
application (each a ``Modification``: header, VSB reference, INSZ, then its own fields, only
those the rules or the history use). ``peek_header`` reads the bookkeeping fields of any
payload, valid or not, for the call record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from lxml import etree

from simulator.errors import RequestError

VSB: Final = "urn:vsb-adapter:vsb:1"
NS: Final = {"v": VSB}


@dataclass(frozen=True)
class Header:
    """The header every request carries."""

    message_id: str
    replaces_message_id: str | None
    nihdi: str
    hco: str
    dossier_id: str | None
    sequence: int | None


@dataclass(frozen=True)
class InsuranceStatusRequest:
    """A look-up of a person's VSB insurance status on a reference date."""

    header: Header
    insz: str
    reference_date: date


@dataclass(frozen=True)
class RevaApplication:
    """A REVA (7.71 convention) application: only the fields the rules look at."""

    header: Header
    insz: str
    request_type: str
    """diagnosis | new | restart | extension"""
    request_date: date
    start_date: date
    end_date: date
    migration: bool
    exception_request: bool
    location: str | None = None
    accident_code: str | None = None
    previous_reference: str | None = None
    """On a change of facility: the application at the previous facility (it carries over)."""


@dataclass(frozen=True)
class Modification:
    """What every modification of an accepted application carries (vsb:Modification)."""

    header: Header
    vsb_reference: str
    insz: str

    @property
    def kind(self) -> str:
        """The message's element name (each class below is named after its element)."""
        return type(self).__name__


@dataclass(frozen=True)
class InterruptionPeriod:
    """An interruption's span and reason; ``end`` is the EndDate or the ExpectedEndDate."""

    start: date
    end: date
    expected: bool
    """True when only an ExpectedEndDate was given."""
    reason: str


@dataclass(frozen=True)
class RevaStop(Modification):
    """A stop of an accepted REVA application."""

    stop_date: date
    reason: str


@dataclass(frozen=True)
class RevaStopCancel(Modification):
    """Cancel an accepted stop: the period runs as before."""


@dataclass(frozen=True)
class RevaCancel(Modification):
    """Cancel an accepted application: it is deleted for good."""


@dataclass(frozen=True)
class RevaDataChange(Modification):
    """New administrative data; ``None`` where the message leaves a field unchanged."""

    contact_person: str | None
    """The contact person's name (part 1)."""
    location: str | None
    accident_code: str | None


@dataclass(frozen=True)
class RevaStartChange(Modification):
    """A new start date of the period."""

    new_start_date: date


@dataclass(frozen=True)
class RevaExtension(Modification):
    """An extension of the approved period, continuing it."""

    start_date: date
    end_date: date


@dataclass(frozen=True)
class RevaExtensionCancel(Modification):
    """Cancel an accepted extension, named by its start date."""

    extension_start_date: date


@dataclass(frozen=True)
class RevaInterruption(Modification):
    """An interruption beyond the user's will."""

    interruption: InterruptionPeriod


@dataclass(frozen=True)
class RevaInterruptionChange(Modification):
    """New values for the accepted interruption that starts on ``interruption_start_date``."""

    interruption_start_date: date
    interruption: InterruptionPeriod


@dataclass(frozen=True)
class RevaInterruptionCancel(Modification):
    """Cancel the accepted interruption that starts on ``interruption_start_date``."""

    interruption_start_date: date


@dataclass(frozen=True)
class RevaMedicalReportChange(Modification):
    """A medical report (part 3) in place of the one sent."""


@dataclass(frozen=True)
class RevaDocument(Modification):
    """An additional medical report or document."""


@dataclass(frozen=True)
class RevaKmRequest(Modification):
    """A km allowance for wheelchair-dependent transport (part 4)."""

    transport_type: str


@dataclass(frozen=True)
class RevaKmChange(Modification):
    """A change of the accepted km allowance."""

    transport_type: str


@dataclass(frozen=True)
class RevaKmStop(Modification):
    """A stop of the km allowance: the flat rate is paid again."""

    stop_date: date


@dataclass(frozen=True)
class RevaKmStopCancel(Modification):
    """Cancel the stop of the km allowance: it resumes."""


ModificationRequest = (
    RevaStop
    | RevaStopCancel
    | RevaCancel
    | RevaDataChange
    | RevaStartChange
    | RevaExtension
    | RevaExtensionCancel
    | RevaInterruption
    | RevaInterruptionChange
    | RevaInterruptionCancel
    | RevaMedicalReportChange
    | RevaDocument
    | RevaKmRequest
    | RevaKmChange
    | RevaKmStop
    | RevaKmStopCancel
)
"""Every modification of an accepted application the simulator takes."""

Request = InsuranceStatusRequest | RevaApplication | ModificationRequest


@dataclass(frozen=True)
class Peek:
    """What the call record wants to know about a payload, read without trusting it."""

    kind: str | None
    message_id: str | None
    dossier_id: str | None
    sequence: int | None


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:
        # The schema makes these required; reaching here means the schema was bypassed.
        raise RequestError(f"missing element {path}")
    return value


def _date(element: etree._Element, path: str) -> date:
    # xs:date may carry a time zone suffix ("Z", "+01:00"); the local date is what counts.
    return date.fromisoformat(_required(element, path)[:10])


def _boolean(element: etree._Element, path: str) -> bool:
    return _required(element, path) in ("true", "1")


def _sequence(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return int(text)


def read_header(root: etree._Element) -> Header:
    """The header of a schema-valid request."""
    return Header(
        message_id=_required(root, "v:Header/v:MessageId"),
        replaces_message_id=_text(root, "v:Header/v:ReplacesMessageId"),
        nihdi=_required(root, "v:Header/v:Facility/v:Nihdi"),
        hco=_required(root, "v:Header/v:Facility/v:Hco"),
        dossier_id=_text(root, "v:Header/v:DossierId"),
        sequence=_sequence(_text(root, "v:Header/v:Sequence")),
    )


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace."""
    return etree.QName(element).localname


def _interruption(element: etree._Element) -> InterruptionPeriod:
    end = _text(element, "v:Interruption/v:EndDate")
    return InterruptionPeriod(
        start=_date(element, "v:Interruption/v:StartDate"),
        end=_date(
            element, "v:Interruption/v:EndDate" if end else "v:Interruption/v:ExpectedEndDate"
        ),
        expected=end is None,
        reason=_required(element, "v:Interruption/v:Reason"),
    )


def _modification(kind: str, root: etree._Element, header: Header) -> ModificationRequest:
    common = (header, _required(root, "v:VsbReference"), _required(root, "v:Insz"))
    match kind:
        case "RevaStop":
            return RevaStop(*common, _date(root, "v:StopDate"), _required(root, "v:Reason"))
        case "RevaStopCancel":
            return RevaStopCancel(*common)
        case "RevaCancel":
            return RevaCancel(*common)
        case "RevaDataChange":
            return RevaDataChange(
                *common,
                contact_person=_text(root, "v:ContactPerson/v:Name"),
                location=_text(root, "v:Location"),
                accident_code=_text(root, "v:AccidentCode"),
            )
        case "RevaStartChange":
            return RevaStartChange(*common, _date(root, "v:NewStartDate"))
        case "RevaExtension":
            return RevaExtension(*common, _date(root, "v:StartDate"), _date(root, "v:EndDate"))
        case "RevaExtensionCancel":
            return RevaExtensionCancel(*common, _date(root, "v:ExtensionStartDate"))
        case "RevaInterruption":
            return RevaInterruption(*common, _interruption(root))
        case "RevaInterruptionChange":
            start = _date(root, "v:InterruptionStartDate")
            return RevaInterruptionChange(*common, start, _interruption(root))
        case "RevaInterruptionCancel":
            return RevaInterruptionCancel(*common, _date(root, "v:InterruptionStartDate"))
        case "RevaMedicalReportChange":
            return RevaMedicalReportChange(*common)
        case "RevaDocument":
            return RevaDocument(*common)
        case "RevaKmRequest":
            return RevaKmRequest(*common, _required(root, "v:TransportReport/v:TransportType"))
        case "RevaKmChange":
            return RevaKmChange(*common, _required(root, "v:TransportReport/v:TransportType"))
        case "RevaKmStop":
            return RevaKmStop(*common, _date(root, "v:StopDate"))
        case "RevaKmStopCancel":
            return RevaKmStopCancel(*common)
    raise RequestError(f"unsupported message {kind}: the simulator answers requests only")


def read_message(root: etree._Element) -> Request:
    """The typed request for a schema-valid payload; ``RequestError`` for any other kind."""
    qname = etree.QName(root)
    if qname.namespace != VSB:
        raise RequestError(f"unsupported message {{{qname.namespace}}}{qname.localname}")
    header = read_header(root)
    kind = qname.localname
    if kind == "InsuranceStatusRequest":
        return InsuranceStatusRequest(
            header, _required(root, "v:Insz"), _date(root, "v:ReferenceDate")
        )
    if kind == "RevaApplication":
        return RevaApplication(
            header=header,
            insz=_required(root, "v:Insz"),
            request_type=_required(root, "v:RequestType"),
            request_date=_date(root, "v:RequestDate"),
            start_date=_date(root, "v:StartDate"),
            end_date=_date(root, "v:EndDate"),
            migration=_boolean(root, "v:Migration"),
            exception_request=root.find("v:ExceptionRequest", NS) is not None,
            location=_text(root, "v:Location"),
            accident_code=_text(root, "v:AccidentCode"),
            previous_reference=_text(root, "v:PreviousVsbReference"),
        )
    return _modification(kind, root, header)


def peek_header(root: etree._Element | None) -> Peek:
    """Kind, message id, dossier id and sequence of any payload, ``None`` where unreadable."""
    if root is None:
        return Peek(None, None, None, None)
    return Peek(
        kind=local_name(root),
        message_id=_text(root, "v:Header/v:MessageId"),
        dossier_id=_text(root, "v:Header/v:DossierId"),
        sequence=_sequence(_text(root, "v:Header/v:Sequence")),
    )
