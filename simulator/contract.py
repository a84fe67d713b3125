"""The contract files the simulator serves and enforces: the VSB XSD and the WSDL.

They are read from disk (``mappings/schemas`` and ``mappings/wsdl`` of this repository by
default); the simulator shares no code with the adapter, only these contract files.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Final

from lxml import etree

from simulator.errors import RequestError

REPO: Final = Path(__file__).resolve().parent.parent
DEFAULT_XSD: Final = REPO / "mappings" / "schemas" / "vsb" / "vsb-1.0.xsd"
DEFAULT_WSDL: Final = REPO / "mappings" / "wsdl" / "central-1.0.wsdl"
WSDL_SOAP: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
MAX_SCHEMA_ERROR: Final = 1000
"""Longest schema error in a faultstring: libxml2 quotes the offending value in full, and
a hostile 100 000-character value must not come back (or go to the log) whole."""


def shortened(message: str, limit: int = MAX_SCHEMA_ERROR) -> str:
    """``message`` cut in the middle to at most about ``limit`` characters, keeping its
    start (the element and the facet) and its end (", line N")."""
    if len(message) <= limit:
        return message
    head, tail = message[: limit - 200], message[-150:]
    return f"{head} … ({len(message) - len(head) - len(tail)} characters left out) … {tail}"


def safe_parser() -> etree.XMLParser:
    """An XML parser that never fetches anything and never expands entities.

    ``huge_tree`` lets a text node exceed libxml2's 10 MB: a document of 10 MiB is 14 MB of
    base64 in one element. The request size stays bounded (``max_body_bytes``).
    """
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


class Contract:
    """Validates VSB payloads against the XSD and renders the WSDL for a given address."""

    def __init__(self, xsd_path: Path = DEFAULT_XSD, wsdl_path: Path = DEFAULT_WSDL):
        self._schema = etree.XMLSchema(etree.parse(str(xsd_path), safe_parser()))
        self._wsdl = etree.parse(str(wsdl_path), safe_parser())
        # An XMLSchema keeps its error log on the instance: one validation at a time.
        self._lock = threading.Lock()

    def validate(self, payload: etree._Element) -> None:
        """Raise ``RequestError`` naming the first schema error if the payload is invalid."""
        document = copy.deepcopy(payload)
        try:
            with self._lock:
                self._schema.assertValid(document)
        except etree.DocumentInvalid as exc:
            # lxml words it as "<first error>, line N".
            raise RequestError(f"schema: {shortened(str(exc))}") from exc

    def wsdl(self, endpoint: str) -> bytes:
        """The WSDL with its soap:address pointing at ``endpoint``."""
        document = copy.deepcopy(self._wsdl)
        for address in document.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", endpoint)
        return etree.tostring(document, xml_declaration=True, encoding="UTF-8")
