"""The web console in a real browser (Debian's chromium and chromedriver, through selenium),
on a real store whose dead letter a daemon made against the failing simulator."""

from __future__ import annotations

import dataclasses
import os
import select
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from adapter.clock import SystemClock
from adapter.console.users import Role, write_user
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.store.records import MessageView
from adapter.support import SupportDesk
from mappings.model import Outcome
from queues import ConfirmedPublisher
from simulator import Simulator
from tests.integration.conftest import make_settings
from tests.support.events import AFFILIATED, application
from tests.support.processes import ROOT, adapter_environ
from tests.support.rig import wait_for

pytestmark = pytest.mark.rabbitmq

CHROMIUM = Path(os.environ.get("VSB_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("VSB_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
OPERATOR_PASSWORD = "correct horse battery"
VIEWER_PASSWORD = "viewer horse battery"


def _need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    reason = f"no {' or '.join(missing)}: apt-get install chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


class Console(NamedTuple):
    """A console process on a store holding one dead letter, and that letter."""

    url: str
    desk: SupportDesk
    dead: MessageView
    dossier: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(environ: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``vsb-adapter ARGS`` started, its standard input a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "adapter", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environ,
        cwd=ROOT,
        text=True,
    )


@pytest.fixture
def console(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
    tmp_path: Path,
) -> Iterator[Console]:
    """A daemon that gives up after two tries makes a dead letter of a REVA application the
    failing simulator refuses; then the simulator heals and ``vsb-adapter console`` starts."""
    _need_browser()
    settings = make_settings(sqlite_url, broker_names, simulator, pki)
    settings = dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, max_attempts=2, quick_tries=1)
    )
    daemon = Daemon(settings)
    daemon.start()
    process: subprocess.Popen[str] | None = None
    try:
        port = _free_port()
        users = tmp_path / "console-users"
        environ = {
            **os.environ,
            **adapter_environ(sqlite_url, broker_names, simulator.url, pki),
            "VSB_CONSOLE__ENABLED": "true",
            "VSB_CONSOLE__PORT": str(port),
            "VSB_CONSOLE__USERS_FILE": str(users),
        }
        # The operator through the command (its password on stdin, as a script gives it),
        # the viewer through the same function; the console starts while the letter dies.
        adding = _cli(environ, "console-user", "add", "olivia", "--role", "operator")
        write_user(users, "victor", Role.VIEWER, VIEWER_PASSWORD)
        assert adding.stdin is not None
        adding.stdin.write(OPERATOR_PASSWORD + "\n")
        adding.stdin.close()
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "console"],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        desk = SupportDesk(daemon.store, daemon.facility, SystemClock())
        simulator.set_faults("http500", next=100)
        publisher = ConfirmedPublisher(broker_address(settings))
        tag = uuid.uuid4().hex[:8]
        publisher.publish(
            settings.broker.events_exchange,
            "event",
            application(f"console-{tag}", f"console-dossier-{tag}", 1, AFFILIATED),
            message_id=f"console-{tag}",
            content_type="application/fhir+json",
        )
        publisher.close()
        assert wait_for(lambda: bool(desk.dead_letters()), timeout=60), "no dead letter came"
        simulator.clear_faults()
        [dead] = desk.dead_letters()
        assert adding.wait(30) == 0, adding.stdout.read() if adding.stdout else ""
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        first = process.stdout.readline() if ready else ""
        assert first.startswith("console at http://127.0.0.1:"), first
        yield Console(f"http://127.0.0.1:{port}", desk, dead, f"console-dossier-{tag}")
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        daemon.stop()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless chromium driven by chromedriver (both from Debian)."""
    _need_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(browser: WebDriver, url: str, name: str, password: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{url}/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "log-in").click()
    assert (
        browser.find_element(By.ID, "who").text
        == f"{name} ({'operator' if name == 'olivia' else 'viewer'})"
    )


def post_form(browser: WebDriver, action: str, *, with_token: bool) -> str:
    """Submit a hand-made form from the current page (as a forged or curious page would);
    returns the heading of the page that answers."""
    browser.execute_script(
        """
        const form = document.createElement('form');
        form.method = 'post';
        form.action = arguments[0];
        if (arguments[1]) {
            const token = document.querySelector('input[name=csrf_token]').cloneNode();
            form.appendChild(token);
        }
        document.body.appendChild(form);
        form.submit();
        """,
        action,
        with_token,
    )
    assert wait_for(lambda: browser.current_url.endswith(action), 10), browser.current_url
    return str(browser.find_element(By.TAG_NAME, "h1").text)


def dead_state(desk: SupportDesk, message_id: str) -> bool:
    return any(m.message_id == message_id for m in desk.dead_letters())


class TestConsoleInABrowser:
    """Support staff's path through the console, and what it refuses."""

    def test_an_operator_finds_the_group_replays_it_and_sees_the_audit(
        self, console: Console, browser: WebDriver
    ) -> None:
        """Log in, the dead letter's cause is a group of one, Replay all sends it again (the
        healed simulator accepts it), and the audit log names the user, the console and why."""
        log_in(browser, console.url, "olivia", OPERATOR_PASSWORD)
        [group] = console.desk.dead_letter_groups()
        row = browser.find_element(By.CSS_SELECTOR, f"tr[data-group='{group.cause.group_id}']")
        assert group.cause.code in row.text
        # The dossier as the logs tag it: the EPD's id may hold a name or an INSZ.
        assert console.dossier not in browser.page_source
        replay_form = row.find_element(By.CSS_SELECTOR, "button.replay-group").find_element(
            By.XPATH, ".."
        )
        replay_form.find_element(By.NAME, "reason").send_keys("central application fixed")
        replay_form.find_element(By.CSS_SELECTOR, "button.replay-group").click()
        assert browser.find_element(By.CSS_SELECTOR, ".flash").text == ("replay: 1 of 1 message(s)")
        assert browser.find_element(By.ID, "count").text.startswith("0 dead letter")

        def accepted() -> bool:
            [m] = console.desk.dossier(console.dossier)
            return m.outcome is Outcome.ACCEPTED

        assert wait_for(accepted, timeout=60), console.desk.dossier(console.dossier)
        browser.find_element(By.NAME, "id").send_keys(console.dossier + Keys.ENTER)
        [shown] = browser.find_elements(By.CSS_SELECTOR, "#messages tr[data-message-id]")
        assert "done accepted" in shown.text, shown.text
        assert console.dossier not in browser.current_url

        browser.find_element(By.LINK_TEXT, "Audit log").click()
        [line] = [
            r for r in browser.find_elements(By.CSS_SELECTOR, "#audit tr")
            if console.dead.message_id in r.text
        ]  # fmt: skip
        assert line.find_element(By.CLASS_NAME, "action").text == "replay"
        assert line.find_element(By.CLASS_NAME, "actor").text == "olivia (console)"
        assert "reason: central application fixed" in line.text

    def test_an_event_is_masked_until_an_operator_unmasks_it_with_a_reason(
        self, console: Console, browser: WebDriver
    ) -> None:
        """The message page lists its failed tries; its event page hides the INSZ; unmasking
        asks a reason, shows it, and is audited."""
        log_in(browser, console.url, "olivia", OPERATOR_PASSWORD)
        browser.find_element(By.LINK_TEXT, console.dead.message_id).click()
        assert browser.find_element(By.ID, "state").text == "dead"
        tries = browser.find_elements(By.CSS_SELECTOR, "#attempts tr")[1:]
        assert [t.text.split()[0] for t in tries] == ["1", "2"]
        assert "dead" in tries[-1].text
        assert AFFILIATED not in browser.page_source
        browser.get(f"{console.url}/events/{console.dead.event_id}")
        assert AFFILIATED not in browser.page_source
        assert console.dossier not in browser.page_source
        browser.find_element(By.ID, "unmask-reason").send_keys("ticket 4711: wrong INSZ?")
        browser.find_element(By.ID, "unmask").click()
        assert AFFILIATED in browser.find_element(By.ID, "payload").text
        browser.get(f"{console.url}/audit")
        [line] = [
            r for r in browser.find_elements(By.CSS_SELECTOR, "#audit tr") if "unmask" in r.text
        ]
        assert "ticket 4711" in line.text
        assert "olivia (console)" in line.text

    def test_a_viewer_sees_no_replay_button_and_a_posted_replay_is_forbidden(
        self, console: Console, browser: WebDriver
    ) -> None:
        """The viewer reads the dead letter; a replay posted anyway (with a valid CSRF token)
        gets 403, and the message stays a dead letter."""
        log_in(browser, console.url, "victor", VIEWER_PASSWORD)
        row = browser.find_element(
            By.CSS_SELECTOR, f"tr[data-message-id='{console.dead.message_id}']"
        )
        browser.implicitly_wait(0)  # an absent button is expected: no need to wait for it
        assert row.find_elements(By.CSS_SELECTOR, "button.replay") == []
        assert row.find_elements(By.CSS_SELECTOR, "button.discard") == []
        assert browser.find_elements(By.CSS_SELECTOR, "button.replay-group") == []
        heading = post_form(
            browser, f"/dead-letters/{console.dead.message_id}/replay", with_token=True
        )
        assert heading == "403 Forbidden"
        assert dead_state(console.desk, console.dead.message_id)

    def test_a_post_without_the_csrf_token_is_forbidden(
        self, console: Console, browser: WebDriver
    ) -> None:
        """An operator's session posting a replay without its token gets 403 and nothing is
        replayed; the row's own Replay form (token and reason) then replays it."""
        log_in(browser, console.url, "olivia", OPERATOR_PASSWORD)
        heading = post_form(
            browser, f"/dead-letters/{console.dead.message_id}/replay", with_token=False
        )
        assert heading == "403 Forbidden"
        assert dead_state(console.desk, console.dead.message_id)
        assert console.desk.audit_lines(action="replay") == []
        browser.get(f"{console.url}/dead-letters")
        row = browser.find_element(
            By.CSS_SELECTOR, f"tr[data-message-id='{console.dead.message_id}']"
        )
        form = row.find_element(By.CSS_SELECTOR, "button.replay").find_element(By.XPATH, "..")
        form.find_element(By.NAME, "reason").send_keys("the same, with its token")
        form.find_element(By.CSS_SELECTOR, "button.replay").click()
        assert browser.find_element(By.CSS_SELECTOR, ".flash").text.startswith("replayed")
        [line] = console.desk.audit_lines(action="replay")
        assert (line.actor, line.target) == ("olivia (console)", console.dead.message_id)

    def test_an_operator_discards_with_a_reason_and_restores(
        self, console: Console, browser: WebDriver
    ) -> None:
        """Discard from the list (a reason asked), Restore from the message page: a dead
        letter again; both in the audit with their reasons."""
        log_in(browser, console.url, "olivia", OPERATOR_PASSWORD)
        row = browser.find_element(
            By.CSS_SELECTOR, f"tr[data-message-id='{console.dead.message_id}']"
        )
        form = row.find_element(By.CSS_SELECTOR, "button.discard").find_element(By.XPATH, "..")
        form.find_element(By.NAME, "reason").send_keys("the EPD sends it anew")
        form.find_element(By.CSS_SELECTOR, "button.discard").click()
        assert browser.find_element(By.CSS_SELECTOR, ".flash").text.startswith("discarded")
        browser.get(f"{console.url}/messages/{console.dead.message_id}")
        assert browser.find_element(By.ID, "state").text == "discarded (invalid)"
        browser.find_element(By.NAME, "reason").send_keys("discarded by mistake")
        browser.find_element(By.ID, "restore").click()
        assert browser.find_element(By.CSS_SELECTOR, ".flash").text.startswith("restored")
        assert browser.find_element(By.ID, "state").text == "dead"
        reasons = {
            line.action: line.detail.get("reason")
            for line in console.desk.audit_lines(target=console.dead.message_id)
        }
        assert reasons == {"discard": "the EPD sends it anew", "restore": "discarded by mistake"}
