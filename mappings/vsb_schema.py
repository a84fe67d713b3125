"""The VSB message schema (vsb-1.0.xsd), loaded once, and helpers to build its elements."""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Any, Final

from lxml import etree

from mappings.errors import SchemaViolation

VSB_NS: Final = "urn:vsb-adapter:vsb:1"
XSD_RESOURCE: Final = ("schemas", "vsb", "vsb-1.0.xsd")

_XSD_FILE = resources.files("mappings").joinpath(*XSD_RESOURCE)
_XSD_BYTES = _XSD_FILE.read_bytes()
# An XMLSchema keeps its error log on the object and the engine maps in many threads: each
# thread gets a schema of its own. A shared one behind a lock made the senders queue, since
# lxml lets go of the GIL while validating and each lock holder then waited to get it back.
# Building schemas is not thread-safe in libxml2 (concurrent builds fail at random), so
# that happens under a lock, once per thread.
_LOCAL = threading.local()
_BUILDING = threading.Lock()


def _schema() -> etree.XMLSchema:
    schema: etree.XMLSchema | None = getattr(_LOCAL, "schema", None)
    if schema is None:
        with _BUILDING:
            schema = _LOCAL.schema = etree.XMLSchema(etree.fromstring(_XSD_BYTES))
    return schema


def schema() -> etree.XMLSchema:
    """This thread's vsb-1.0.xsd (for a streaming validation, ``mappings.invoice_batch``)."""
    return _schema()


_schema()  # a broken XSD fails at import, not at the first message
_GLOBAL_ELEMENTS: Final = frozenset(
    str(element.get("name"))
    for element in etree.fromstring(_XSD_BYTES).iterfind(
        "{http://www.w3.org/2001/XMLSchema}element"
    )
)


_VALUE_PHRASES = (
    re.compile(r"The value '[^']*'"),
    re.compile(r"'[^']*'(?= is not a valid value)"),
)


def is_message(local: str) -> bool:
    """Whether ``local`` is a global element of vsb-1.0.xsd (a message or answer root)."""
    return local in _GLOBAL_ELEMENTS


def qname(local: str) -> str:
    """The Clark notation of a VSB element name."""
    return f"{{{VSB_NS}}}{local}"


def root(local: str) -> etree._Element:
    """A new VSB message root element (namespace prefix ``vsb``)."""
    return etree.Element(qname(local), nsmap={"vsb": VSB_NS})


def add(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    """Append a VSB child element, with ``text`` if given."""
    child = etree.SubElement(parent, qname(local))
    if text is not None:
        child.text = text
    return child


def validate_xml(element: etree._Element) -> None:
    """Validate a VSB message against vsb-1.0.xsd; raise ``SchemaViolation`` if invalid.

    The message names the element and the broken rule, never the value: values are
    masked because the schema's messages quote them (an INSZ, a diagnosis).
    """
    schema = _schema()
    if schema.validate(element):
        return
    # lxml-stubs do not describe the log entries.
    log: Any = schema.error_log
    errors = [(int(entry.line), str(entry.path), str(entry.message)) for entry in log]
    values = _values(element)
    described = [_describe(line, path, message, values) for line, path, message in errors]
    raise SchemaViolation("; ".join(described) or "the message does not match vsb-1.0.xsd")


def _values(element: etree._Element) -> list[str]:
    found: set[str] = set()
    for node in element.iter():
        for value in (node.text, *node.attrib.values()):
            if isinstance(value, str) and value.strip():
                found.update((value, value.strip()))
    # Longest first, so a value containing another one is masked whole.
    return sorted(found, key=len, reverse=True)


def masked(message: str) -> str:
    """A libxml2 schema message without the value it quotes (it may be an INSZ)."""
    for phrase in _VALUE_PHRASES:
        message = phrase.sub("The value", message)
    return message


def _describe(line: int, path: str, message: str, values: list[str]) -> str:
    message = masked(message)
    # A safety net for phrasings the patterns above do not know: any quoted value goes.
    for value in values:
        message = message.replace(f"'{value}'", "'…'")
    return f"{path} (line {line}): {message}" if line > 0 else f"{path}: {message}"
