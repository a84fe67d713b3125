"""Reading the envelope: what the engine needs even from an event it will refuse."""

from __future__ import annotations

from typing import Any

import pytest

from mappings import InvalidEvent, read_envelope
from tests.mappings.helpers import raw, resource


def test_reads_id_code_dossier_and_sequence(application: dict[str, Any]) -> None:
    """A well-formed event yields its id, code, dossier id, sequence and document."""
    envelope = read_envelope(raw(application))
    assert envelope.event_id == "evt-20261120-0002"
    assert envelope.event_code == "reva-application"
    assert envelope.dossier_id == "REVA-2026-0042"
    assert envelope.sequence == 1
    assert envelope.document == application


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", "not-json"),
        (b"\xff\xfe", "not-json"),
        (b"[1, 2]", "not-object"),
        (b'{"resourceType": "Bundle"}', "event-id"),
        (b'{"id": "has spaces"}', "event-id"),
        (b'{"id": 42}', "event-id"),
        (b'{"id": "' + b"x" * 65 + b'"}', "event-id"),
    ],
)
def test_unreadable_event_id_raises(payload: bytes, code: str) -> None:
    """Only an event whose id cannot be read raises InvalidEvent."""
    with pytest.raises(InvalidEvent) as caught:
        read_envelope(payload)
    assert [issue.code for issue in caught.value.issues] == [code]


def test_missing_parts_become_none() -> None:
    """An event with a readable id but nothing else still gives an envelope."""
    envelope = read_envelope(b'{"id": "evt-1", "entry": "nonsense"}')
    assert (envelope.event_code, envelope.dossier_id, envelope.sequence) == (None, None, None)


@pytest.mark.parametrize("value", [0, -3, "1", True, 1.5, 2**31])
def test_malformed_sequence_becomes_none(application: dict[str, Any], value: object) -> None:
    """A sequence that is not one positive 32-bit integer is read as None."""
    header = resource(application, "MessageHeader")
    header["extension"][1]["valuePositiveInt"] = value
    assert read_envelope(raw(application)).sequence is None


def test_duplicate_sequence_becomes_none(application: dict[str, Any]) -> None:
    """Two sequence extensions make the sequence unreadable rather than ambiguous."""
    header = resource(application, "MessageHeader")
    header["extension"].append(dict(header["extension"][1]))
    assert read_envelope(raw(application)).sequence is None


@pytest.mark.parametrize("value", ["", "   ", " padded", "x" * 65, 12])
def test_malformed_dossier_id_becomes_none(application: dict[str, Any], value: object) -> None:
    """A blank, padded, too long or non-text dossier id is read as None."""
    resource(application, "MessageHeader")["extension"][0]["valueString"] = value
    assert read_envelope(raw(application)).dossier_id is None
