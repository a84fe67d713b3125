"""Why a message failed, as a stable key: the dead letters of one fault share one cause.

A dead letter keeps its last error as text (``messages.last_error``). The cause is read from
that text: the error code it names (an HTTP status, a SOAP fault code) or the kind of error
the adapter recorded, then the rest of the text with everything that differs from one
message to the next (ids, numbers, dates and times) replaced by placeholders. The group id
is a short digest of the key, stable across runs and hosts, to type on the command line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_GAVE_UP = re.compile(r"^gave up after (?:\d+ attempts|failing for too long): ")
_CODES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^HTTP (\d{3})\b"), "http-{0}"),
    (re.compile(r"^SOAP fault ([^\s:]+:?[^\s:]*):"), "soap-fault {0}"),
    (re.compile(r"^internal error: ([A-Za-z_][\w.]*)"), "internal {0}"),
    (re.compile(r"^unreadable answer\b"), "unreadable-answer"),
    (re.compile(r"^unreadable stored event\b"), "unreadable-event"),
    (re.compile(r"^schema\b"), "schema"),
    (re.compile(r"^timeout\b"), "timeout"),
    (re.compile(r"^cannot connect\b"), "no-connection"),
    (re.compile(r"^the central application's response broke off\b"), "broken-response"),
    (re.compile(r"^SOAP error\b"), "soap-error"),
)
# Order matters: a timestamp holds a date, a date holds numbers, a UUID holds hex runs.
_VARIABLE: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<id>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b"), "<time>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b"), "<id>"),
    (re.compile(r"\b[A-Za-z]+[-_]?\d[\w-]*\b"), "<id>"),
    (re.compile(r"\d+(?:[.,]\d+)?"), "<n>"),
)
_ERROR_CODE = re.compile(r"\b[A-Z]{1,5}-?\d{2,6}\b")
"""An error code the central application names (capitals then digits), kept as it is."""
_MAX_TEXT = 200
_KEPT = 0xE000


@dataclass(frozen=True)
class Cause:
    """The cause of a failure: its code, its normalised text and a short id for both."""

    code: str
    """The error code the text names (``http-500``, ``soap-fault soap:Server``), else the
    kind of error (``internal KeyError``, ``timeout``), else ``other``."""
    text: str
    """The error text with ids, numbers, dates and times replaced (``<id>``, ``<n>``...)."""

    @property
    def key(self) -> str:
        """The full stable key: code and normalised text."""
        return f"{self.code}: {self.text}"

    @property
    def group_id(self) -> str:
        """Eight hex digits of the key's SHA-256: what ``replay --group`` takes."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:8]


def cause_of(error: str | None) -> Cause:
    """The cause of a last error as the store keeps it (None: a message with no error)."""
    if not error:
        return Cause("none", "no error recorded")
    text = _GAVE_UP.sub("", error.strip(), count=1)
    code = "other"
    for pattern, template in _CODES:
        found = pattern.match(text)
        if found is not None:
            code = template.format(*found.groups())
            break
    return Cause(code, normalised(text))


def normalised(text: str) -> str:
    """``text`` with what varies between messages of one fault replaced by placeholders.

    What names the fault stays: three-digit HTTP statuses, SOAP and WS-Security fault codes,
    and error codes in capitals and digits (``E-118``, ``VSB4021``): two of them are two
    causes, each with its own runbook entry.
    """
    kept: list[str] = []

    def keep(found: re.Match[str]) -> str:
        kept.append(found.group(0))
        return chr(_KEPT + len(kept) - 1)  # a private-use character: no pattern touches it

    text = re.sub(r"\bHTTP \d{3}\b", keep, text)
    text = re.sub(r"\b(?:soap|wsse|env|s):\w+", keep, text)
    text = _ERROR_CODE.sub(keep, text)
    for pattern, placeholder in _VARIABLE:
        text = pattern.sub(placeholder, text)
    text = re.sub("[\ue000-\uf8ff]", lambda m: kept[ord(m.group(0)) - _KEPT], text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
