"""The VSB request messages as the simulator reads them (vsb-1.0.xsd).

``read_message`` turns a schema-valid, signature-checked payload into one of the typed
requests: the three look-ups, the REVA application and every modification of an accepted
application (each a ``Modification``: header, VSB reference, INSZ, then its own fields, only
those the rules or the history use) below, and the PVT messages of
``simulator.pvt_messages``. ``peek_header`` reads the bookkeeping fields of any payload,
valid or not, for the call record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from simulator.errors import RequestError
from simulator.invoice_messages import InvoiceBatch, read_invoice_batch
from simulator.message_parts import (
    NS,
    VSB,
    Header,
    Modification,
    boolean,
    day,
    local_name,
    modification_head,
    optional_day,
    read_header,
    required,
    sequence_number,
    text,
)
from simulator.pvt_messages import PvtAdmission, PvtModificationRequest, read_pvt


@dataclass(frozen=True)
class LookUp:
    """A look-up of a person on a reference date (no application, no reference number)."""

    header: Header
    insz: str
    reference_date: date

    @property
    def kind(self) -> str:
        """The message's element name (each subclass is named after its element)."""
        return type(self).__name__


@dataclass(frozen=True)
class InsuranceStatusRequest(LookUp):
    """A look-up of a person's VSB insurance status on a reference date."""


@dataclass(frozen=True)
class IncreasedAllowanceRequest(LookUp):
    """A look-up of a person's increased allowance (verhoogde tegemoetkoming) on a day."""


@dataclass(frozen=True)
class PersonalShareRequest(LookUp):
    """A look-up of a PVT resident's daily personal share on a day."""


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
    vi_approval_date: date | None = None
    """A migration file: the day the VI had approved it."""


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

Request = (
    InsuranceStatusRequest
    | IncreasedAllowanceRequest
    | PersonalShareRequest
    | RevaApplication
    | ModificationRequest
    | PvtAdmission
    | PvtModificationRequest
    | InvoiceBatch
)
"""Every request the simulator takes."""

LookUpKind = (
    type[InsuranceStatusRequest] | type[IncreasedAllowanceRequest] | type[PersonalShareRequest]
)
LOOK_UPS: dict[str, LookUpKind] = {
    kind.__name__: kind
    for kind in (InsuranceStatusRequest, IncreasedAllowanceRequest, PersonalShareRequest)
}


@dataclass(frozen=True)
class Peek:
    """What the call record wants to know about a payload, read without trusting it."""

    kind: str | None
    message_id: str | None
    dossier_id: str | None
    sequence: int | None


def _interruption(element: etree._Element) -> InterruptionPeriod:
    end = text(element, "v:Interruption/v:EndDate")
    return InterruptionPeriod(
        start=day(element, "v:Interruption/v:StartDate"),
        end=day(element, "v:Interruption/v:EndDate" if end else "v:Interruption/v:ExpectedEndDate"),
        expected=end is None,
        reason=required(element, "v:Interruption/v:Reason"),
    )


def _modification(kind: str, root: etree._Element, header: Header) -> ModificationRequest:
    common = modification_head(root, header)
    match kind:
        case "RevaStop":
            return RevaStop(*common, day(root, "v:StopDate"), required(root, "v:Reason"))
        case "RevaStopCancel":
            return RevaStopCancel(*common)
        case "RevaCancel":
            return RevaCancel(*common)
        case "RevaDataChange":
            return RevaDataChange(
                *common,
                contact_person=text(root, "v:ContactPerson/v:Name"),
                location=text(root, "v:Location"),
                accident_code=text(root, "v:AccidentCode"),
            )
        case "RevaStartChange":
            return RevaStartChange(*common, day(root, "v:NewStartDate"))
        case "RevaExtension":
            return RevaExtension(*common, day(root, "v:StartDate"), day(root, "v:EndDate"))
        case "RevaExtensionCancel":
            return RevaExtensionCancel(*common, day(root, "v:ExtensionStartDate"))
        case "RevaInterruption":
            return RevaInterruption(*common, _interruption(root))
        case "RevaInterruptionChange":
            start = day(root, "v:InterruptionStartDate")
            return RevaInterruptionChange(*common, start, _interruption(root))
        case "RevaInterruptionCancel":
            return RevaInterruptionCancel(*common, day(root, "v:InterruptionStartDate"))
        case "RevaMedicalReportChange":
            return RevaMedicalReportChange(*common)
        case "RevaDocument":
            return RevaDocument(*common)
        case "RevaKmRequest":
            return RevaKmRequest(*common, required(root, "v:TransportReport/v:TransportType"))
        case "RevaKmChange":
            return RevaKmChange(*common, required(root, "v:TransportReport/v:TransportType"))
        case "RevaKmStop":
            return RevaKmStop(*common, day(root, "v:StopDate"))
        case "RevaKmStopCancel":
            return RevaKmStopCancel(*common)
    raise RequestError(f"unsupported message {kind}: the simulator answers requests only")


def read_message(root: etree._Element) -> Request:
    """The typed request for a schema-valid payload; ``RequestError`` for any other kind."""
    qname = etree.QName(root)
    if qname.namespace != VSB:
        raise RequestError(f"unsupported message {{{qname.namespace}}}{qname.localname}")
    kind = qname.localname
    if kind == "InvoiceBatch":
        return read_invoice_batch(root)
    header = read_header(root)
    look_up = LOOK_UPS.get(kind)
    if look_up is not None:
        return look_up(header, required(root, "v:Insz"), day(root, "v:ReferenceDate"))
    if kind == "RevaApplication":
        return RevaApplication(
            header=header,
            insz=required(root, "v:Insz"),
            request_type=required(root, "v:RequestType"),
            request_date=day(root, "v:RequestDate"),
            start_date=day(root, "v:StartDate"),
            end_date=day(root, "v:EndDate"),
            migration=boolean(root, "v:Migration"),
            exception_request=root.find("v:ExceptionRequest", NS) is not None,
            location=text(root, "v:Location"),
            accident_code=text(root, "v:AccidentCode"),
            previous_reference=text(root, "v:PreviousVsbReference"),
            vi_approval_date=optional_day(root, "v:ViApprovalDate"),
        )
    pvt = read_pvt(kind, root, header)
    if pvt is not None:
        return pvt
    return _modification(kind, root, header)


def peek_header(root: etree._Element | None) -> Peek:
    """Kind, message id, dossier id and sequence of any payload, ``None`` where unreadable."""
    if root is None:
        return Peek(None, None, None, None)
    return Peek(
        kind=local_name(root),
        message_id=text(root, "v:Header/v:MessageId"),
        dossier_id=text(root, "v:Header/v:DossierId"),
        sequence=sequence_number(text(root, "v:Header/v:Sequence")),
    )
