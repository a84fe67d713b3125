"""What every VSB request shares, and how its fields are read: the namespace, the header,
the head of a modification (vsb:Modification), and typed readers for one element's text.

``simulator.messages`` (look-ups, REVA) and ``simulator.pvt_messages`` (PVT) build on
these; both read payloads that already passed the schema and the signature check.
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
class Modification:
    """What every modification of an accepted application carries (vsb:Modification)."""

    header: Header
    vsb_reference: str
    insz: str

    @property
    def kind(self) -> str:
        """The message's element name (each subclass is named after its element)."""
        return type(self).__name__


def text(element: etree._Element, path: str) -> str | None:
    """The stripped text at ``path`` (prefix ``v``), ``None`` if absent or empty."""
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def required(element: etree._Element, path: str) -> str:
    """The text at ``path``, which the schema makes required."""
    value = text(element, path)
    if value is None:
        # Reaching here means the schema was bypassed.
        raise RequestError(f"missing element {path}")
    return value


def day(element: etree._Element, path: str) -> date:
    """The xs:date at ``path`` as a local date."""
    # xs:date may carry a time zone suffix ("Z", "+01:00"); the local date is what counts.
    return date.fromisoformat(required(element, path)[:10])


def optional_day(element: etree._Element, path: str) -> date | None:
    """The xs:date at ``path``, ``None`` if absent."""
    return None if text(element, path) is None else day(element, path)


def boolean(element: etree._Element, path: str) -> bool:
    """The xs:boolean at ``path``."""
    return required(element, path) in ("true", "1")


def sequence_number(value: str | None) -> int | None:
    """A header's Sequence, ``None`` if absent or not a number (unvalidated payloads)."""
    if value is None or not value.isdigit():
        return None
    return int(value)


def read_header(root: etree._Element) -> Header:
    """The header of a schema-valid request."""
    return Header(
        message_id=required(root, "v:Header/v:MessageId"),
        replaces_message_id=text(root, "v:Header/v:ReplacesMessageId"),
        nihdi=required(root, "v:Header/v:Facility/v:Nihdi"),
        hco=required(root, "v:Header/v:Facility/v:Hco"),
        dossier_id=text(root, "v:Header/v:DossierId"),
        sequence=sequence_number(text(root, "v:Header/v:Sequence")),
    )


def modification_head(root: etree._Element, header: Header) -> tuple[Header, str, str]:
    """The header, VsbReference and Insz that start every modification."""
    return header, required(root, "v:VsbReference"), required(root, "v:Insz")


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace."""
    return etree.QName(element).localname
