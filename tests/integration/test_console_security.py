"""The web console's guards, through Flask's test client on a real SQLite store: log-in,
roles, CSRF, cookies, headers, the users file and the session key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.clock import SystemClock
from adapter.console.server import console_app, serve, session_secret
from adapter.console.users import Role, read_users, remove_user, write_user
from adapter.errors import ConfigError
from adapter.settings import Settings, load_settings
from adapter.store import Sealer, Store, create_store_engine, migrate
from adapter.support import SupportDesk
from adapter.testing import keyring_file
from mappings.model import Facility

PASSWORD = "a long enough password"  # a test user's


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings of a console on a fresh store, with an operator and a viewer."""
    users = tmp_path / "users"
    write_user(users, "olivia", Role.OPERATOR, PASSWORD)
    write_user(users, "victor", Role.VIEWER, PASSWORD)
    return load_settings(
        None,
        {
            "VSB_STORE__URL": sqlite_url,
            "VSB_STORE__KEY_FILE": str(keyring_file(tmp_path / "keyring")),
            "VSB_CONSOLE__ENABLED": "true",
            "VSB_CONSOLE__USERS_FILE": str(users),
        },
    )


def desk_of(settings: Settings) -> SupportDesk:
    engine = create_store_engine(settings.store.url, 2)
    migrate(engine)
    sealer, _ = Sealer.from_file(settings.store.key_file)
    facility = Facility(settings.facility.nihdi, settings.facility.hco)
    return SupportDesk(Store(engine, sealer=sealer), facility, SystemClock())


@pytest.fixture
def app(settings: Settings) -> Flask:
    return console_app(settings, desk_of(settings))


def token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def logged_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token(client)}
    )
    assert answer.status_code == 302, answer.text
    return client


class TestSettings:
    """The console is off and on loopback unless the settings say otherwise."""

    def test_off_and_on_loopback_by_default(self) -> None:
        """No file, no environment: disabled, 127.0.0.1, cookies not Secure."""
        console = load_settings(None, {}).console
        assert (console.enabled, console.host, console.cookie_secure) == (False, "127.0.0.1", False)

    def test_serve_refuses_while_disabled(self, settings: Settings) -> None:
        """`vsb-adapter console` with console.enabled false stops with a config error."""
        off = dataclasses.replace(
            settings, console=dataclasses.replace(settings.console, enabled=False)
        )
        with pytest.raises(ConfigError, match=r"console\.enabled"):
            serve(off, desk_of(off))

    @pytest.mark.parametrize(
        ("port", "ok"), [(-1, False), (0, True), (65535, True), (65536, False)]
    )
    def test_port_range(self, port: int, ok: bool) -> None:
        """A TCP port, 0 meaning any free one."""
        environ = {"VSB_CONSOLE__PORT": str(port)}
        if ok:
            assert load_settings(None, environ).console.port == port
        else:
            with pytest.raises(ConfigError, match=r"console\.port"):
                load_settings(None, environ)


class TestLogIn:
    """Who gets in, and where they land."""

    def test_a_page_without_a_log_in_sends_to_the_log_in(self, app: Flask) -> None:
        """The dead letters ask for a log-in first, and come back after it."""
        answer = app.test_client().get("/dead-letters")
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/login?next=/dead-letters"

    def test_a_wrong_password_is_refused(self, app: Flask) -> None:
        """401 and the same words for a wrong password and an unknown user."""
        client = app.test_client()
        for name, password in (("olivia", "wrong password!!"), ("nobody", PASSWORD)):
            answer = client.post(
                "/login", data={"name": name, "password": password, "csrf_token": token(client)}
            )
            assert answer.status_code == 401
            assert "unknown user or wrong password" in answer.text

    def test_the_log_in_form_needs_its_csrf_token(self, app: Flask) -> None:
        """A log-in posted from elsewhere (no token of this session) gets 403."""
        answer = app.test_client().post("/login", data={"name": "olivia", "password": PASSWORD})
        assert answer.status_code == 403

    @pytest.mark.parametrize(
        ("next_page", "landing"),
        [
            ("/audit", "/audit"),
            ("//evil.example/", "/dead-letters"),
            ("https://evil.example/", "/dead-letters"),
        ],
    )
    def test_after_the_log_in_only_a_page_of_the_console(
        self, app: Flask, next_page: str, landing: str
    ) -> None:
        """``next`` is followed only to a path of this console (no open redirect)."""
        client = app.test_client()
        answer = client.post(
            "/login",
            data={
                "name": "olivia",
                "password": PASSWORD,
                "next": next_page,
                "csrf_token": token(client),
            },
        )
        assert answer.headers["Location"] == landing

    def test_a_removed_user_is_signed_out_at_the_next_request(
        self, app: Flask, settings: Settings
    ) -> None:
        """The users file is read again when it changes: the cookie alone is not enough."""
        client = logged_in(app, "victor")
        assert client.get("/audit").status_code == 200
        assert remove_user(Path(settings.console.users_file), "victor")
        assert client.get("/audit").status_code == 302


class TestGuards:
    """CSRF, roles, cookies and headers."""

    def test_the_session_cookie_is_httponly_and_strict(self, app: Flask) -> None:
        """HttpOnly and SameSite=Strict always; not Secure unless configured."""
        cookie = app.test_client().get("/login").headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Secure" not in cookie

    def test_the_cookie_is_secure_when_configured(self, settings: Settings) -> None:
        """console.cookie_secure marks it Secure (behind a TLS proxy)."""
        secure = dataclasses.replace(
            settings, console=dataclasses.replace(settings.console, cookie_secure=True)
        )
        cookie = (
            console_app(secure, desk_of(secure)).test_client().get("/login").headers["Set-Cookie"]
        )
        assert "Secure" in cookie

    def test_every_answer_forbids_caching_and_framing(self, app: Flask) -> None:
        """Pages may hold unmasked data: nothing cached, no frame, no foreign resource."""
        headers = app.test_client().get("/login").headers
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in headers["Content-Security-Policy"]

    def test_an_action_with_a_wrong_token_is_forbidden(self, app: Flask) -> None:
        """An operator's POST with another token than the session's gets 403."""
        client = logged_in(app, "olivia")
        answer = client.post("/dead-letters/m-1/replay", data={"csrf_token": "forged"})
        assert answer.status_code == 403

    @pytest.mark.parametrize(
        "action",
        [
            "/dead-letters/m-1/replay",
            "/dead-letters/m-1/discard",
            "/events/e-1/unmask",
            "/messages/m-1/restore",
            "/groups/0123abcd/replay",
            "/dossiers/x/skip-gap",
        ],
    )
    def test_a_viewer_may_not_act(self, app: Flask, action: str) -> None:
        """Every action answers a viewer 403, even with the right token."""
        client = logged_in(app, "victor")
        answer = client.post(action, data={"csrf_token": token(client, "/audit"), "reason": "r"})
        assert answer.status_code == 403

    def test_an_operator_action_the_desk_refuses_is_shown_and_not_audited(
        self, app: Flask, settings: Settings
    ) -> None:
        """Replaying a message the store does not have: the desk's words, no audit line."""
        client = logged_in(app, "olivia")
        answer = client.post(
            "/dead-letters/m-unknown/replay",
            data={"csrf_token": token(client, "/audit"), "reason": "retry after the fix"},
            follow_redirects=True,
        )
        assert "no message m-unknown" in answer.text
        assert desk_of(settings).audit_lines() == []

    def test_a_discard_needs_a_reason(self, app: Flask, settings: Settings) -> None:
        """An empty reason is refused before the desk is asked."""
        client = logged_in(app, "olivia")
        answer = client.post(
            "/dead-letters/m-1/discard",
            data={"csrf_token": token(client, "/audit"), "reason": "  "},
            follow_redirects=True,
        )
        assert "needs a reason" in answer.text
        assert desk_of(settings).audit_lines() == []


class TestDossiers:
    """A dossier is addressed by its tag, never by the EPD's id."""

    def test_the_dossier_search_goes_to_the_tag(self, app: Flask) -> None:
        """The id typed in is posted, and answered with a redirect to its tag."""
        client = logged_in(app, "victor")
        answer = client.post(
            "/dossier", data={"id": "D-85073003328", "csrf_token": token(client, "/audit")}
        )
        location = answer.headers["Location"]
        assert re.fullmatch(r"/dossiers/d:[0-9a-f]{12}", location), location
        assert "has no message of dossier d:" in client.get(location).text

    def test_an_unknown_message_is_not_found(self, app: Flask) -> None:
        """The message page of an id the store lacks answers 404 with the desk's words."""
        answer = logged_in(app, "victor").get("/messages/m-nowhere")
        assert answer.status_code == 404
        assert "no message m-nowhere" in answer.text

    def test_a_dossier_address_with_an_id_is_not_found(self, app: Flask) -> None:
        """/dossiers/<raw id> answers 404: ids do not go in addresses."""
        assert logged_in(app, "victor").get("/dossiers/D-2291").status_code == 404


class TestFiles:
    """The users file and the session key."""

    def test_a_users_file_others_can_read_is_refused(self, settings: Settings) -> None:
        """Mode 644 stops the console's start, as the keystore's would."""
        Path(settings.console.users_file).chmod(0o644)
        with pytest.raises(ConfigError, match="chmod 600"):
            console_app(settings, desk_of(settings))

    def test_the_users_file_holds_hashes_not_passwords(self, settings: Settings) -> None:
        """Argon2id hashes, mode 600."""
        path = Path(settings.console.users_file)
        assert PASSWORD not in path.read_text()
        assert read_users(path)["olivia"].password_hash.startswith("$argon2id$")
        assert path.stat().st_mode & 0o777 == 0o600

    @pytest.mark.parametrize(("password", "ok"), [("x" * 11, False), ("x" * 12, True)])
    def test_a_password_has_at_least_twelve_characters(
        self, tmp_path: Path, password: str, ok: bool
    ) -> None:
        """11 characters refused, 12 taken."""
        if ok:
            assert write_user(tmp_path / "u", "a", Role.VIEWER, password)
        else:
            with pytest.raises(ConfigError, match="12 characters"):
                write_user(tmp_path / "u", "a", Role.VIEWER, password)

    def test_the_derived_session_key_is_stable_and_a_file_replaces_it(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        """Derived from the keyring's index key (the same at every start); a secret file of
        at least 32 bytes takes its place, a shorter one is refused."""
        assert session_secret(settings) == session_secret(settings)
        secret = tmp_path / "secret"
        for content, ok in ((b"s" * 31, False), (b"s" * 32, True)):
            secret.write_bytes(content)
            secret.chmod(0o600)
            with_file = dataclasses.replace(
                settings,
                console=dataclasses.replace(settings.console, session_secret_file=str(secret)),
            )
            if ok:
                assert session_secret(with_file) == content
            else:
                with pytest.raises(ConfigError, match="32 bytes"):
                    session_secret(with_file)
