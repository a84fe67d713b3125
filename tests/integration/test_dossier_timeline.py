"""A dossier's timeline and why it waits, through ``vsb-adapter dossier`` and the console's
dossier page, on waits made for real: a daemon sends to the simulator (with faults, latency
and "in beraad" cases where a wait needs them) and the CLI reads the same store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapter import lifecycle
from adapter.clock import SystemClock
from adapter.console.app import create_app
from adapter.console.users import Role, Users, write_user
from adapter.devpki import DevPki
from adapter.settings import load_settings
from adapter.support import SupportDesk
from simulator import Simulator
from tests.integration.test_console_security import PASSWORD, logged_in
from tests.integration.test_support_cli import Cli, person, running
from tests.support import events, reva
from tests.support.processes import adapter_environ
from tests.support.rig import Harness, wait_for

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
QUICK_DEATH = {
    # Two tries, then a dead letter; the breaker never opens (it would give tries back).
    "VSB_DELIVERY__MAX_ATTEMPTS": "2",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__BREAKER_FAILURES": "1000",
}
SLOW_RETRY = {
    # One try, then the next one two minutes later: the retry is there to be looked at.
    "VSB_DELIVERY__MAX_ATTEMPTS": "5",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__BREAKER_FAILURES": "1000",
    "VSB_DELIVERY__BACKOFF_INITIAL_SECONDS": "120",
    "VSB_DELIVERY__BACKOFF_MAX_SECONDS": "120",
}


@dataclass
class Rig(Cli):
    """A daemon, its simulator, and the CLI on its store."""

    adapter: Harness
    simulator: Simulator
    desk: SupportDesk

    def timeline(self, dossier: str) -> dict[str, Any]:
        """``vsb-adapter dossier DOSSIER --json``."""
        found = self.cli_json("dossier", dossier)
        assert isinstance(found, dict), found
        return found

    def waits_for(self, dossier: str, reason: str, timeout: float = 60) -> dict[str, Any]:
        """Poll the CLI until the dossier waits for ``reason``; its JSON then."""
        seen: list[str] = []

        def reached() -> bool:
            code, _, _ = self.cli("dossier", dossier, "--json")
            if code != 0:
                return False
            seen.append(self.timeline(dossier)["waits"]["reason"])
            return seen[-1] == reason

        assert wait_for(reached, timeout), f"{dossier} waits for {seen[-3:]}, not {reason}"
        return self.timeline(dossier)

    def message_id(self, dossier: str, sequence: int) -> str:
        """The message id of a dossier's number (from the desk)."""
        [found] = [m for m in self.desk.dossier(dossier) if m.sequence == sequence]
        return found.message_id

    def desk_secret(self) -> bytes | None:
        """The keyring's index secret: the log tags of dossiers are made with it."""
        return self.adapter.daemon.store.sealer.keyring.index_secret

    def can_join(self, serial: int) -> str:
        """A person not affiliated who may join: an application of theirs is "in beraad"."""
        insz = reva.insz(date(1975, 1, 1), serial)
        self.simulator.set_person(insz, "can-join")
        return insz


@pytest.fixture
def rig_on(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[..., Rig]]:
    """Start a daemon on a store with extra settings, and the CLI's environment on it."""
    with ExitStack() as stack:

        def start(store_url: str, **extra: str) -> Rig:
            environ = adapter_environ(store_url, broker_names, simulator.url, pki, **extra)
            for key, value in environ.items():
                monkeypatch.setenv(key, value)
            harness = stack.enter_context(running(environ))
            desk = SupportDesk(harness.daemon.store, harness.daemon.facility, SystemClock())
            return Rig(capsys=capsys, adapter=harness, simulator=simulator, desk=desk)

        yield start


def kinds(found: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The timeline's (kind, sequence) pairs, in order."""
    return [(e["kind"], e.get("sequence")) for e in found["timeline"]]


class TestDossierTimeline:
    """Each wait a dossier can be in, as ``vsb-adapter dossier`` and the console show it."""

    def test_every_wait_reason_from_the_cli_and_the_console(
        self, rig_on: Callable[..., Rig], store_url: str, tmp_path: Path
    ) -> None:
        """All answered, a gap (then skipped), in beraad, a modification held for its
        application's reference (then decided), in flight, blocked by a dead letter, the
        tag look-up, an unknown dossier, and the console's page of the held dossier."""
        rig = rig_on(store_url, **QUICK_DEATH)
        sim = rig.simulator
        done_insz = person(sim, 51)
        rig.adapter.send(
            events.application("tl-done-1", "TL-DONE", 1, done_insz),
            events.application("tl-gap-2", "TL-GAP", 2, person(sim, 53)),
            events.application("tl-beraad-1", "TL-BERAAD", 1, rig.can_join(55)),
            events.application("tl-held-1", "TL-HELD", 1, held_insz := rig.can_join(57)),
            events.stop("tl-held-2", "TL-HELD", 2, held_insz),
        )

        # -- all answered: received, answered, done; times in ISO 8601 UTC ----------------
        done = rig.waits_for("TL-DONE", "nothing")
        assert done["waits"]["message_id"] is None
        assert kinds(done) == [("received", 1), ("answer", 1), ("state", 1)]
        received, answer, state = done["timeline"]
        assert received["valid"] is True
        assert (answer["outcome"], answer["source"]) == ("accepted", "sync")
        assert answer["vsb_reference"]
        assert (state["state"], state["outcome"]) == ("done", "accepted")
        assert all(ISO_UTC.fullmatch(e["at"]) for e in done["timeline"])
        assert [e["at"] for e in done["timeline"]] == sorted(e["at"] for e in done["timeline"])
        code, out, err = rig.cli("dossier", "TL-DONE")
        assert code == 0, err
        assert "why it waits: Nothing to wait for" in out
        assert answer["vsb_reference"] in out
        assert ISO_UTC.search(out)
        assert done_insz not in out

        # -- a gap: number 1 never came; skipped, the dossier goes on --------------------
        gap = rig.waits_for("TL-GAP", "gap")
        assert gap["waits"]["missing"] == 1
        assert gap["waits"]["message_id"] == rig.message_id("TL-GAP", 2)
        assert ISO_UTC.fullmatch(gap["waits"]["since"])
        assert "`vsb-adapter skip-gap TL-GAP`" in gap["waits"]["text"]
        code, _, err = rig.cli("skip-gap", "TL-GAP", "--actor", "Jan", "--reason", "EPD: no #1")
        assert code == 0, err
        rig.waits_for("TL-GAP", "nothing")

        # -- in beraad: the application waits for its decision -----------------------------
        beraad = rig.waits_for("TL-BERAAD", "in-beraad")
        assert beraad["waits"]["message_id"] == rig.message_id("TL-BERAAD", 1)
        assert "mailbox" in beraad["waits"]["text"]
        assert ("in-beraad", "sync") in [
            (e["outcome"], e["source"]) for e in beraad["timeline"] if e["kind"] == "answer"
        ]

        # -- held for a reference: the stop behind the application in beraad --------------
        held = rig.waits_for("TL-HELD", "held-for-reference")
        application, stop = rig.message_id("TL-HELD", 1), rig.message_id("TL-HELD", 2)
        assert held["waits"]["message_id"] == stop
        assert held["waits"]["application_id"] == application
        assert held["waits"]["application_state"] == "waiting"
        assert application in held["waits"]["text"]
        assert "VSB reference" in held["waits"]["text"]

        # -- the console's page of it: the same sentence and timeline, by the tag --------
        tag = lifecycle.DossierTags(rig.desk_secret()).of_id("TL-HELD")
        page = console_page(rig, tmp_path, f"/dossiers/{tag}")
        assert 'data-reason="held-for-reference"' in page
        assert held["waits"]["text"].split(":")[0] in page
        assert application in page
        assert page.count('data-kind="received"') == 2
        assert "TL-HELD" not in page
        assert held_insz not in page

        [case] = [c for c in sim.pending() if c.message_id == application]
        sim.decide(case.message_id, decision="accept")
        decided = rig.waits_for("TL-HELD", "nothing")
        sources = [e["source"] for e in decided["timeline"] if e["kind"] == "answer"]
        assert "mailbox" in sources

        # -- in flight: a slow central application --------------------------------------
        sim.set_latency(1500)
        rig.adapter.send(events.application("tl-fly-1", "TL-FLY", 1, person(sim, 61)))
        flying = rig.waits_for("TL-FLY", "in-flight", timeout=30)
        assert flying["waits"]["lease_owner"]
        sim.set_latency(0)
        rig.waits_for("TL-FLY", "nothing")

        # -- blocked: a dead letter after two HTTP 500s ---------------------------------
        sim.set_faults("http500", next=1000)
        rig.adapter.send(events.application("tl-dead-1", "TL-DEAD", 1, person(sim, 63)))
        dead = rig.waits_for("TL-DEAD", "blocked")
        sim.clear_faults()
        dead_id = rig.message_id("TL-DEAD", 1)
        assert dead["waits"]["message_id"] == dead_id
        assert "HTTP 500" in dead["waits"]["error"]
        for command in (f"show {dead_id}", "replay", "discard"):
            assert command in dead["waits"]["text"]
        tries = [(e["ended"], e["attempt"]) for e in dead["timeline"] if e["kind"] == "attempt"]
        assert tries == [("retry", 1), ("dead", 2)]

        # -- the log tag finds the same dossier ----------------------------------------
        dead_tag = lifecycle.DossierTags(rig.desk_secret()).of_id("TL-DEAD")
        by_tag = rig.timeline(dead_tag)
        assert by_tag["dossier"] == dead_tag
        assert by_tag["timeline"] == dead["timeline"]
        assert by_tag["waits"]["reason"] == "blocked"

        # -- an unknown dossier: one sentence, exit code 3 ------------------------------
        code, out, err = rig.cli("dossier", "TL-NO-SUCH")
        assert (code, out) == (3, "")
        assert "no dossier TL-NO-SUCH" in err

    def test_a_retrying_head_says_when_it_is_tried_again(
        self, rig_on: Callable[..., Rig], sqlite_url: str
    ) -> None:
        """One HTTP 500, the next try two minutes away: retrying, its next try, its error."""
        rig = rig_on(sqlite_url, **SLOW_RETRY)
        rig.simulator.set_faults("http500", next=1000)
        rig.adapter.send(events.application("tl-retry-1", "TL-RETRY", 1, person(rig.simulator, 71)))
        retrying = rig.waits_for("TL-RETRY", "retrying")
        waits = retrying["waits"]
        assert "HTTP 500" in waits["error"]
        assert f"next try at {waits['next_try']}" in waits["text"]
        tries = [e for e in retrying["timeline"] if e["kind"] == "attempt"]
        assert [(e["ended"], e["attempt"]) for e in tries] == [("retry", 1)]
        # The backoff's equal jitter puts the next try 60 to 120 s after the failure.
        failed_at = datetime.fromisoformat(tries[0]["at"])
        delay = datetime.fromisoformat(waits["next_try"]) - failed_at
        assert timedelta(seconds=59) <= delay <= timedelta(seconds=121), delay
        code, out, err = rig.cli("dossier", "TL-RETRY")
        assert code == 0, err
        assert "why it waits: Retrying:" in out


def console_page(rig: Rig, tmp_path: Path, path: str) -> str:
    """A console page read by a viewer, through Flask's test client on the rig's desk."""
    users_file = tmp_path / "console-users"
    write_user(users_file, "victor", Role.VIEWER, PASSWORD)
    settings = load_settings(None, {"VSB_CONSOLE__USERS_FILE": str(users_file)})
    app = create_app(rig.desk, Users(users_file), b"s" * 32, settings.console)
    answer = logged_in(app, "victor").get(path)
    assert answer.status_code == 200, answer.text
    return answer.text
