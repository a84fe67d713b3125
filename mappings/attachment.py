"""The documents an event carries: FHIR Attachments, checked wherever they are in the focus.

A medical report, a transport report or an additional document travels as an Attachment
(``contentType``, ``data`` in base64, ``title``) and goes into the signed VSB message as
``xs:base64Binary``. The rules, each with its own issue code:

======================  ===============================================================
``attachment-type``     ``contentType`` is PDF, JPEG or PNG (what the zorgkas can open)
``base64``              ``data`` is canonical base64 (line breaks allowed), as the XSD wants
``attachment-content``  the decoded data starts as its type does (JPEG, PNG); a PDF's
                        ``%PDF-`` may follow up to 1024 other bytes, as PDF readers allow
``attachment-too-large``  the attachments of one event together at most ``MAX_BYTES``
======================  ===============================================================

The checks decode almost nothing: the size follows from the length, the type from the first
1,029 bytes, the padding bits from the last group. Data without whitespace is read in place;
only wrapped data is copied, to read it without its line breaks (``compact``). A 10 MiB
document is about 14 million characters; decoding it here would cost as much memory again for
nothing (docs/performance.md, set E).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Final

from mappings.bundle import EventBundle, Node
from mappings.model import Issue

MAX_BYTES: Final = 10 * 1024 * 1024
"""The decoded size of all the attachments of one event together (10 MiB)."""

SIGNATURES: Final = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
"""The accepted content types and the header their data starts with (a PDF's may follow
up to ``_PDF_HEADER_WITHIN`` other bytes)."""

_PDF_HEADER_WITHIN: Final = 1024
"""PDF readers accept the ``%PDF-`` header anywhere in the first 1024 bytes."""
_HEAD_CHARS: Final = 1372
"""Base64 characters that decode to the first 1029 bytes: a PDF header starting at 1024."""
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def compact(data: str) -> str:
    """Base64 ``data`` without whitespace (the line breaks of wrapped base64), as the checks
    read it and the VSB message carries it: ``data`` itself when it has none."""
    # CPython's split gives a string without whitespace back as its one piece, and join
    # returns a lone piece as it is: unwrapped data, the usual case, is never copied.
    return "".join(data.split())


def attachments(node: Node) -> Iterator[Node]:
    """Every Attachment under ``node``: an object with a ``contentType`` and a string
    ``data`` (one without a content type is the schema's to refuse).

    The body limits bound the depth (32), so the recursion is bounded too.
    """
    if isinstance(node.value, dict):
        if isinstance(node.value.get("data"), str) and "contentType" in node.value:
            yield node
            return
        for key in node.value:
            yield from attachments(node.child(key))
    elif isinstance(node.value, list):
        for item in node.items():
            yield from attachments(item)


def attachment_issues(bundle: EventBundle, focus: Node) -> list[Issue]:
    """The issues of every attachment of the focus, and of their total size."""
    issues: list[Issue] = []
    total = 0
    for attachment in attachments(focus):
        before, total = total, total + _issues_of(bundle, attachment, issues)
        if before <= MAX_BYTES < total:  # named once: at the attachment that crosses it
            expression = bundle.expression(attachment.child("data"))
            text = (
                f"{expression}: the attachments of the event together exceed {MAX_BYTES:,}"
                " bytes (10 MiB) decoded; send further documents as reva-document events."
            )
            issues.append(Issue("attachment-too-large", text, expression))
    return issues


def _issues_of(bundle: EventBundle, attachment: Node, issues: list[Issue]) -> int:
    """Add the attachment's own issues; return its decoded size (0 if unreadable)."""
    content_type = attachment.child("contentType")
    media_type = (
        content_type.value.split(";", 1)[0].strip().lower()
        if isinstance(content_type.value, str)
        else None
    )
    if media_type is not None and media_type not in SIGNATURES:
        expression = bundle.expression(content_type)
        accepted = ", ".join(SIGNATURES)
        text = f"{expression} must be one of {accepted}."
        issues.append(Issue("attachment-type", text, expression))
    data = attachment.child("data")
    encoded = compact(str(data.value))
    if not _is_canonical(encoded):
        expression = bundle.expression(data)
        issues.append(Issue("base64", f"{expression} is not valid base64.", expression))
        return 0
    signature = SIGNATURES.get(media_type or "")
    if signature is not None and not _starts_as(base64.b64decode(encoded[:_HEAD_CHARS]), signature):
        expression = bundle.expression(data)
        text = f"{expression} does not start as {media_type} data does."
        issues.append(Issue("attachment-content", text, expression))
    return len(encoded) // 4 * 3 - encoded[-2:].count("=")


def _is_canonical(encoded: str) -> bool:
    """Base64 that ``xs:base64Binary`` accepts: the alphabet, padding, zero padding bits."""
    if len(encoded) % 4 or _BASE64.fullmatch(encoded) is None:
        return False
    tail = encoded[-4:]
    try:
        # a lenient decoder ignores non-zero padding bits; the XSD does not
        return base64.b64encode(base64.b64decode(tail, validate=True)).decode("ascii") == tail
    except (binascii.Error, ValueError):
        return False


def _starts_as(head: bytes, signature: bytes) -> bool:
    if signature == SIGNATURES["application/pdf"]:
        return signature in head[: _PDF_HEADER_WITHIN + len(signature)]
    return head.startswith(signature)
