"""The VSB request messages as the simulator reads them (vsb-1.0.xsd).

``read_message`` turns a schema-valid, signature-checked payload into one of the typed
requests below; ``peek_header`` reads the bookkeeping fields of any payload, valid or not,
for the call record.
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


@dataclass(frozen=True)
class RevaStop:
    """A stop of an accepted REVA application."""

    header: Header
    vsb_reference: str
    insz: str
    stop_date: date
    reason: str


Request = InsuranceStatusRequest | RevaApplication | RevaStop


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
        )
    if kind == "RevaStop":
        return RevaStop(
            header=header,
            vsb_reference=_required(root, "v:VsbReference"),
            insz=_required(root, "v:Insz"),
            stop_date=_date(root, "v:StopDate"),
            reason=_required(root, "v:Reason"),
        )
    raise RequestError(f"unsupported message {kind}: the simulator answers requests only")


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
