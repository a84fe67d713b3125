"""Hostile input on every form and query of the web console (Flask's test client, a real
SQLite store): NUL bytes, invalid UTF-8, control characters, huge values, markup. Each gets
a clear answer (a 4xx page or the page with nothing found), never a 500; nothing is audited
or acted on; and the console keeps serving afterwards."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.console.server import console_app
from adapter.settings import Settings
from adapter.support import SupportDesk
from tests.integration.test_console_security import desk_of, logged_in, token
from tests.integration.test_console_security import settings as settings  # the fixture

HOSTILE = {
    "nul": "a\x00b",
    "control": "\x1b[31m\x07\x08",
    "markup": '<script>alert("x")</script>',
    "long": "x" * 60_000,
    "surrogate-like": "\\ud800\\udfff",
    "path": "../../etc/passwd",
}
RAW_QUERIES = {
    "bad-utf8": b"actor=%ff%fe%fd",
    "nul-encoded": b"target=%00%00",
    "overlong-utf8": b"action=%c0%af",
}


@pytest.fixture
def desk(settings: Settings) -> SupportDesk:
    return desk_of(settings)


@pytest.fixture
def app(settings: Settings, desk: SupportDesk) -> Flask:
    return console_app(settings, desk)


@pytest.fixture
def operator(app: Flask) -> FlaskClient:
    return logged_in(app, "olivia")


def still_serving(client: FlaskClient) -> None:
    """The console answers a normal page after the hostile request."""
    assert client.get("/dead-letters").status_code == 200


class TestHostileForms:
    """Each hostile value on each form: a clear refusal or an empty result, no 500."""

    @pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
    def test_the_dossier_search(self, operator: FlaskClient, value: str) -> None:
        """A dossier id is never echoed into an address: a redirect to a tag, or a refusal."""
        answer = operator.post(
            "/dossier", data={"id": value, "csrf_token": token(operator, "/dead-letters")}
        )
        assert answer.status_code in (302, 400, 413), answer.status_code
        location = answer.headers.get("Location", "")
        assert value not in location
        still_serving(operator)

    @pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
    def test_an_action_with_a_hostile_reason(
        self, operator: FlaskClient, desk: SupportDesk, value: str
    ) -> None:
        """A replay of an unknown message with a hostile reason acts on nothing, audits
        nothing."""
        answer = operator.post(
            "/dead-letters/m-none/replay",
            data={"reason": value, "csrf_token": token(operator, "/dead-letters")},
        )
        assert answer.status_code in (302, 400, 413), answer.status_code
        assert desk.audit_log() == []
        still_serving(operator)

    @pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
    def test_audit_filters(self, operator: FlaskClient, value: str) -> None:
        """Hostile filters find nothing; markup comes back escaped, never as markup."""
        answer = operator.get("/audit", query_string={"actor": value, "target": value})
        assert answer.status_code in (200, 400, 414), answer.status_code
        assert '<script>alert("x")</script>' not in answer.text
        still_serving(operator)

    @pytest.mark.parametrize("query", RAW_QUERIES.values(), ids=RAW_QUERIES.keys())
    def test_undecodable_queries(self, operator: FlaskClient, query: bytes) -> None:
        """Percent-encoded bytes that are no UTF-8, or NULs: no 500."""
        answer = operator.get("/audit?" + query.decode("ascii"))
        assert answer.status_code in (200, 400), answer.status_code
        still_serving(operator)

    @pytest.mark.parametrize(
        "path", ["/messages/a%00b", "/events/%ff%fe", "/dossiers/d:%00", "/invoice-batches/%2e%2e"]
    )
    def test_hostile_addresses(self, operator: FlaskClient, path: str) -> None:
        """Unknown or malformed ids in an address: a 404 page, not a 500."""
        answer = operator.get(path)
        assert answer.status_code in (400, 404), (path, answer.status_code)
        still_serving(operator)

    def test_a_body_over_the_limit_is_refused(self, operator: FlaskClient) -> None:
        """A form body over 64 KiB: 413, nothing read."""
        answer = operator.post(
            "/dossier",
            data={"id": "x" * 70_000, "csrf_token": token(operator, "/dead-letters")},
        )
        assert answer.status_code == 413
        still_serving(operator)

    @pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
    def test_the_log_in(self, app: Flask, value: str) -> None:
        """A hostile name or password does not log in and does not break the page."""
        client = app.test_client()
        answer = client.post(
            "/login", data={"name": value, "password": value, "csrf_token": token(client)}
        )
        assert answer.status_code in (200, 400, 401, 413), answer.status_code
        assert client.get("/dead-letters").status_code == 302  # still not logged in
