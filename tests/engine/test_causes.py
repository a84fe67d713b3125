"""The cause of a dead letter: one key per fault, whatever varies between its messages."""

from __future__ import annotations

import pytest

from adapter.causes import cause_of


class TestCauseOf:
    """``cause_of`` reads the error code or kind and normalises what varies."""

    @pytest.mark.parametrize(
        ("error", "code", "text"),
        [
            (
                "gave up after 2 attempts: HTTP 500 from the central application",
                "http-500",
                "HTTP 500 from the central application",
            ),
            (
                "gave up after failing for too long: HTTP 503 from the central application",
                "http-503",
                "HTTP 503 from the central application",
            ),
            (
                "SOAP fault soap:Client: message 6f1c2e3d-1111-2222-3333-444455556666 refused",
                "soap-fault soap:Client",
                "SOAP fault soap:Client: message <id> refused",
            ),
            (
                "SOAP fault wsse:InvalidSecurity: Timestamp Created unreadable",
                "soap-fault wsse:InvalidSecurity",
                None,
            ),
            (
                "SOAP fault soap:Client: VSB4021 dossier 77 unknown",
                "soap-fault soap:Client",
                "SOAP fault soap:Client: VSB4021 dossier <n> unknown",
            ),
            (
                "gave up after 20 attempts: SOAP fault soap:Server: down since"
                " 2026-11-20T10:00:00.123+01:00",
                "soap-fault soap:Server",
                "SOAP fault soap:Server: down since <time>",
            ),
            (
                "internal error: KeyError: 'dossier-77'",
                "internal KeyError",
                "internal error: KeyError: '<id>'",
            ),
            (
                "unreadable answer: HTTP 200, text/html, 64 bytes: not XML",
                "unreadable-answer",
                "unreadable answer: HTTP 200, text/html, <n> bytes: not XML",
            ),
            ("cannot connect to the central application", "no-connection", None),
            ("something new: 12 of 13 at 09:14", "other", "something new: <n> of <n> at <time>"),
            (None, "none", "no error recorded"),
        ],
    )
    def test_code_and_text(self, error: str | None, code: str, text: str | None) -> None:
        """Each kind of error the sender records gets its code; variable parts are replaced."""
        cause = cause_of(error)
        assert cause.code == code
        assert cause.text == (text if text is not None else error)

    def test_one_fault_one_group(self) -> None:
        """Two messages of one fault, with other ids, times and attempt counts, share a group;
        another error code or HTTP status is another group."""
        one = cause_of("gave up after 2 attempts: SOAP fault soap:Server: E-118 for m-17 at 10:01")
        two = cause_of("gave up after 7 attempts: SOAP fault soap:Server: E-118 for m-93 at 11:59")
        other_code = cause_of("gave up after 2 attempts: SOAP fault soap:Server: E-907 for m-1")
        other_status = cause_of("gave up after 2 attempts: HTTP 502 from the central application")
        assert one.group_id == two.group_id
        assert len({one.group_id, other_code.group_id, other_status.group_id}) == 3
        assert len(one.group_id) == 8

    def test_a_long_text_is_cut(self) -> None:
        """A cause's text stays short enough for a table row."""
        assert len(cause_of("internal error: ValueError: " + "x" * 500).text) == 200
