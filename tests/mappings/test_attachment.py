"""Attachments: accepted types, their content, canonical base64 and the 10 MiB per event."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mappings import build_message, read_envelope, validate_event
from mappings.attachment import MAX_BYTES
from tests.mappings.helpers import (
    FACILITY,
    category,
    context,
    info,
    issues_of,
    pairs,
    raw,
    resource,
)
from tests.support.events import example

PDF = b"%PDF-1.7\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
DOCUMENT = "Claim.supportingInfo.where(category.coding.code='document').valueAttachment"


def document_event(content_type: str, data: bytes | str) -> dict[str, Any]:
    """The reva-document example carrying ``data`` (bytes are base64-encoded) as its type."""
    event = example("15-reva-document")
    attachment = info(resource(event, "Claim"), "document")["valueAttachment"]
    attachment["contentType"] = content_type
    attachment["data"] = data if isinstance(data, str) else base64.b64encode(data).decode()
    return event


def accepted(event: dict[str, Any]) -> bool:
    validate_event(read_envelope(raw(event)), FACILITY)
    return True


class TestTypes:
    """PDF, JPEG and PNG are accepted, when their data starts as their type does."""

    @pytest.mark.parametrize(
        ("content_type", "data"),
        [
            ("application/pdf", PDF + b"rest"),
            ("application/pdf", b"\n" * 1024 + PDF),  # readers allow 1024 bytes before %PDF-
            ("Application/PDF; name=report.pdf", PDF),
            ("image/jpeg", JPEG + b"rest"),
            ("image/png", PNG + b"rest"),
        ],
    )
    def test_accepted(self, content_type: str, data: bytes) -> None:
        """Each accepted type with its own header passes."""
        assert accepted(document_event(content_type, data))

    @pytest.mark.parametrize(
        ("content_type", "data", "code", "where"),
        [
            ("text/plain", b"hello", "attachment-type", "contentType"),
            ("application/msword", PDF, "attachment-type", "contentType"),
            ("image/gif", b"GIF89a", "attachment-type", "contentType"),
            ("application/pdf", PNG, "attachment-content", "data"),
            ("application/pdf", b"\n" * 1025 + PDF, "attachment-content", "data"),
            ("image/png", JPEG, "attachment-content", "data"),
            ("image/jpeg", b"\xff\xd8", "attachment-content", "data"),
        ],
    )
    def test_refused(self, content_type: str, data: bytes, code: str, where: str) -> None:
        """Another type, or data that is not what its type says, names the element."""
        assert pairs(issues_of(document_event(content_type, data))) == {
            (code, f"{DOCUMENT}.{where}")
        }


class TestBase64:
    """Canonical base64 only, line breaks allowed; nothing else is decoded for the check."""

    @pytest.mark.parametrize(
        "data",
        [
            "JVBERi0xLjQK",  # no padding needed
            "JVBERi0xLjQKJQ==",
            "JVBERi0xLjQKJSU=",
            "JVBERi0x\nLjQK\r\nJQ==",
        ],
    )
    def test_valid(self, data: str) -> None:
        """Padded, unpadded-by-length and wrapped forms are accepted."""
        assert accepted(document_event("application/pdf", data))

    @pytest.mark.parametrize(
        "data",
        [
            "JVBERi0xLjQKJR==",  # padding bits not zero
            "JVBERi0xLjQKJQ",  # padding missing
            "JVBERi0xLjQKJQ===",
            "JVBERi0x=LjQK",
            "JVBERi0x-_QK",  # URL-safe alphabet
            "JVBERi0x LjQK ü",
        ],
    )
    def test_invalid(self, data: str) -> None:
        """Each is a base64 issue on the data, and nothing else is said of it."""
        assert pairs(issues_of(document_event("application/pdf", data))) == {
            ("base64", f"{DOCUMENT}.data")
        }


class TestSize:
    """The attachments of one event together: 10 MiB decoded, the byte before, of, after."""

    @pytest.mark.parametrize(
        ("size", "refused"), [(MAX_BYTES - 1, False), (MAX_BYTES, False), (MAX_BYTES + 1, True)]
    )
    def test_one_attachment(self, size: int, refused: bool) -> None:
        """One document of 10 MiB is accepted, one byte more is refused."""
        event = document_event("application/pdf", PDF + b"\0" * (size - len(PDF)))
        if refused:
            assert pairs(issues_of(event)) == {("attachment-too-large", f"{DOCUMENT}.data")}
        else:
            assert accepted(event)

    def test_together(self) -> None:
        """Two documents under the limit each but over it together: named at the second."""
        event = example("02-reva-application-diagnosis")
        claim = resource(event, "Claim")
        half = base64.b64encode(PDF + b"\0" * (MAX_BYTES // 2)).decode()
        info(claim, "medical-report")["valueAttachment"]["data"] = half
        claim["supportingInfo"].append(
            {
                "category": category("exception-request"),
                "reason": {"text": "Motivation for the deviation."},
                "valueAttachment": {"contentType": "application/pdf", "data": half},
            }
        )
        expression = "Claim.supportingInfo.where(category.coding.code='exception-request')"
        assert pairs(issues_of(event)) == {
            ("attachment-too-large", f"{expression}.valueAttachment.data")
        }

    def test_a_large_document_maps_as_sent(self) -> None:
        """A document at the limit goes into the VSB message whole (the XSD accepts it)."""
        data = PDF + bytes(range(256)) * ((MAX_BYTES - len(PDF)) // 256)
        envelope = read_envelope(raw(document_event("application/pdf", data)))
        validate_event(envelope, FACILITY)
        message = build_message(envelope, context(vsb_reference="VSB-2026-000001"))
        [document] = [e for e in message.iter() if e.tag.endswith("}Document")]
        assert base64.b64decode(document.text or "") == data
