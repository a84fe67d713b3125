"""Decoding a body within the documented limits: each one at its boundary, on both sides."""

from __future__ import annotations

import json

import pytest

from mappings import InvalidEvent, read_envelope
from mappings.body import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_STRING_CHARS, parse_body
from mappings.envelope import is_clean_key
from tests.mappings.helpers import example, raw, resource


def nested(depth: int) -> bytes:
    """An event whose ``x`` member nests ``depth`` arrays in all (the Bundle object is one)."""
    inner = depth - 1
    return b'{"id": "e1", "x": ' + b"[" * inner + b"]" * inner + b"}"


def refusal_code(body: bytes) -> str | None:
    """The one issue code ``parse_body`` refuses ``body`` with, or None if it decodes."""
    try:
        parse_body(body)
    except InvalidEvent as exc:
        [issue] = exc.issues
        return issue.code
    return None


class TestLimits:
    """Each limit lets its boundary through and refuses one past it."""

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (nested(MAX_DEPTH), None),
            (nested(MAX_DEPTH + 1), "too-deep"),
            (nested(5000), "too-deep"),
            (b'{"id": "e1", "x": ' + b"1" * MAX_NUMBER_CHARS + b"}", None),
            (b'{"id": "e1", "x": ' + b"1" * (MAX_NUMBER_CHARS + 1) + b"}", "number"),
            (b'{"id": "e1", "x": ' + b"7" * 5000 + b"}", "number"),
            (b'{"id": "e1", "x": 0.' + b"5" * (MAX_NUMBER_CHARS - 2) + b"}", None),
            (b'{"id": "e1", "x": 0.' + b"5" * (MAX_NUMBER_CHARS - 1) + b"}", "number"),
            (b'{"id": "e1", "x": 1e308}', None),
            (b'{"id": "e1", "x": 1e309}', "number"),
            (b'{"id": "e1", "x": NaN}', "not-json"),
            (b'{"id": "e1", "x": -Infinity}', "not-json"),
            (b'{"id": "e1"\x00}', "not-json"),
            (b'{"id": "\xff\xfe"}', "not-json"),
            (b"", "not-json"),
        ],
    )
    def test_the_structure_limits(self, body: bytes, code: str | None) -> None:
        """Nesting, number length and range, and the encoding are refused with their code."""
        assert refusal_code(body) == code

    def test_brackets_inside_strings_do_not_count_as_nesting(self) -> None:
        """A string full of brackets and escaped quotes nests nothing."""
        text = '[{\\"' * (MAX_DEPTH * 4)
        assert refusal_code(b'{"id": "e1", "x": "' + text.encode() + b'"}') is None

    @pytest.mark.parametrize(
        ("length", "issues"), [(MAX_STRING_CHARS, []), (MAX_STRING_CHARS + 1, ["string-too-long"])]
    )
    def test_a_string_at_and_past_its_limit(self, length: int, issues: list[str]) -> None:
        """A string of the limit's length passes; one more character is an issue for it."""
        document, found = parse_body(b'{"id": "e1", "x": "' + b"a" * length + b'"}')
        assert document["id"] == "e1"
        assert [(i.code, i.expression) for i in found] == [(code, "Bundle.x") for code in issues]

    @pytest.mark.parametrize(
        ("escape", "issues"),
        [
            ("\\ud83d\\ude00", []),  # a pair: one emoji
            ("\\ud800", ["bad-character"]),
            ("\\udfff", ["bad-character"]),
            ("\\ude00\\ud83d", ["bad-character"]),  # the pair the wrong way round
        ],
    )
    def test_unpaired_surrogates_are_issues(self, escape: str, issues: list[str]) -> None:
        """Only an unpaired surrogate, in a value or a key, is refused."""
        _document, found = parse_body(('{"id": "e1", "x": "a' + escape + '"}').encode())
        assert [i.code for i in found] == issues
        _document, found = parse_body(('{"id": "e1", "k' + escape + '": 1}').encode())
        assert [i.code for i in found] == issues


class TestEnvelope:
    """What the envelope reads from a body that breaks a limit."""

    def test_a_refused_body_has_no_event_id(self) -> None:
        """A body that cannot be decoded is refused before anything is read from it."""
        with pytest.raises(InvalidEvent) as caught:
            read_envelope(nested(MAX_DEPTH + 1))
        assert [i.code for i in caught.value.issues] == ["too-deep"]

    def test_a_bad_string_keeps_the_event_id_for_the_refusal(self) -> None:
        """An unpaired surrogate somewhere still lets the refusal carry the event id."""
        document = example("02-reva-application-diagnosis")
        resource(document, "Patient")["name"] = [{"text": "Jan\ud800"}]
        envelope = read_envelope(json.dumps(document).encode())
        assert envelope.event_id == document["id"]
        assert [(i.code, i.expression) for i in envelope.issues] == [
            ("bad-character", "Patient.name[0].text")
        ]

    def test_an_unusual_member_name_is_not_repeated(self) -> None:
        """A member name that is no element name is rendered as `?` (it could be anything)."""
        document = {"id": "e1", "Jan Janssens\ud800": 1}
        _document, [issue] = parse_body(json.dumps(document).encode())
        assert issue.expression == "Bundle.`?`"
        assert "Jan" not in issue.text


class TestDossierIds:
    """Dossier ids that could look like another one are refused."""

    @pytest.mark.parametrize(
        ("value", "clean"),
        [
            ("REVA-2026-0042", True),
            ("Dossier van José", True),
            ("x" * 64, True),
            ("x" * 65, False),
            ("REVA\u200b-0042", False),  # zero-width space
            ("\ufeffREVA-0042", False),  # byte order mark
            ("REVA-\u202e2400", False),  # right-to-left override
            ("REVA\u2066-0042", False),  # left-to-right isolate
            ("Jose\u0301", False),  # NFD: e + combining acute; NFC would be é
            ("REVA\t0042", False),
            ("REVA\x000042", False),
            ("REVA\u00a00042", False),  # no-break space
            ("REVA\ud8000042", False),
            ("REVA\ue0000042", False),  # private use
            (" REVA", False),
        ],
    )
    def test_clean_keys(self, value: str, clean: bool) -> None:
        """Printable NFC text of at most 64 characters, without surrounding spaces."""
        assert is_clean_key(value) is clean

    def test_an_unclean_dossier_id_is_not_read(self) -> None:
        """The envelope reads no dossier id from a value with a zero-width character."""
        document = example("02-reva-application-diagnosis")
        resource(document, "MessageHeader")["extension"][0]["valueString"] = "REVA\u200b-1"
        assert read_envelope(raw(document)).dossier_id is None
