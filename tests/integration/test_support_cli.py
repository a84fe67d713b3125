"""Support through the CLI on real dead letters: a daemon sends to the simulator with faults
injected until it gives up, then ``vsb-adapter`` groups, replays, discards and restores them
against the same store (SQLite and PostgreSQL), and the audit says who did what and why.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from adapter.clock import SystemClock
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.selection import Selection
from adapter.settings import load_settings
from adapter.store import MessageView
from adapter.support import SupportDesk
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.support import events, reva
from tests.support.cli import run_cli
from tests.support.processes import adapter_environ
from tests.support.rig import Harness, outcome, wait_for

GIVE_UP_FAST = {
    # Two tries, then a dead letter; the breaker never opens (it would hold the attempts).
    "VSB_DELIVERY__MAX_ATTEMPTS": "2",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__BREAKER_FAILURES": "1000",
    "VSB_MONITORING__LOG_JSON": "true",  # the CLI's lifecycle lines, read back from stderr
}


@dataclass
class Cli:
    """``vsb-adapter`` run in this process, on the environment's settings."""

    capsys: pytest.CaptureFixture[str]

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """Run ``vsb-adapter ARGV``: its exit code, stdout and stderr."""
        return run_cli(self.capsys, *argv)

    def cli_json(self, *argv: str) -> Any:
        """Run a read command with ``--json`` and parse what it printed."""
        code, out, err = self.cli(*argv, "--json")
        assert code == 0, err
        return json.loads(out)


@dataclass
class Desk(Cli):
    """A daemon, its simulator and the CLI on the same store."""

    adapter: Harness
    simulator: Simulator
    desk: SupportDesk

    def dead_after(self, count: int, timeout: float = 60) -> list[MessageView]:
        """Wait until the store holds ``count`` dead letters."""
        deadline = time.monotonic() + timeout
        while len(dead := self.desk.dead_letters()) < count:
            assert time.monotonic() < deadline, f"{len(dead)} dead letters, not {count}"
            time.sleep(0.1)
        return dead

    def sent_ok(self) -> dict[str, list[int]]:
        """Per message id, the sequence numbers of the calls the simulator applied."""
        found: dict[str, list[int]] = defaultdict(list)
        for call in self.simulator.record():
            if call.outcome is not None and not call.duplicate and call.message_id:
                found[call.message_id].append(int(call.sequence or 0))
        return found


@pytest.fixture
def support(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Desk]:
    """A daemon that gives up after two tries, and the CLI's environment on its store."""
    environ = adapter_environ(store_url, broker_names, simulator.url, pki, **GIVE_UP_FAST)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SUDO_USER", "jpeeters")
    settings = load_settings(None, environ)
    daemon = Daemon(settings)
    address = broker_address(settings)
    with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
        daemon.start()
        publisher = ConfirmedPublisher(address)
        try:
            harness = Harness(settings, daemon, watcher, publisher)
            desk = SupportDesk(daemon.store, daemon.facility, SystemClock())
            yield Desk(capsys=capsys, adapter=harness, simulator=simulator, desk=desk)
        finally:
            publisher.close()
            daemon.stop()


def person(simulator: Simulator, serial: int) -> str:
    """An affiliated person of its own (two applications of one person would overlap)."""
    insz = reva.insz(date(1970, 1, 1), serial)
    simulator.set_person(insz, "affiliated", "180", date(2001, 10, 1))
    return insz


class TestSupportCli:
    """Dead letters of three causes, handled through ``vsb-adapter`` as support staff do."""

    def test_groups_replay_resume_discard_restore_and_audit(self, support: Desk) -> None:
        """Grouped by cause; a group replayed reaches the simulator in dossier order; an
        interrupted bulk replay resumed sends nothing twice; a discard restored and
        replayed; the audit names actor, OS user and reason of each action."""
        sim = support.simulator
        # Cause 1, HTTP 500: dossier A (an application and its stop behind it), B and C.
        sim.set_faults("http500", next=1000)
        a = person(sim, 11)
        support.adapter.send(
            events.application("A-1", "A", 1, a),
            events.stop("A-2", "A", 2, a),
            events.application("B-1", "B", 1, person(sim, 13)),
            events.application("C-1", "C", 1, person(sim, 15)),
        )
        support.dead_after(3)
        # Cause 2, a soap:Server fault: dossiers D, E, F.
        sim.set_faults("soap-server-fault", next=1000)
        support.adapter.send(
            *(events.application(f"{d}-1", d, 1, person(sim, 21 + 2 * i)) for i, d in
              enumerate("DEF"))
        )  # fmt: skip
        support.dead_after(6)
        # Cause 3, the connection dropped without an answer: dossier G.
        sim.set_faults("drop", next=1000)
        support.adapter.send(events.application("G-1", "G", 1, person(sim, 31)))
        dead = support.dead_after(7)
        sim.clear_faults()
        sim.reset_record()
        by_event = {m.event_id: m for m in dead}

        # -- grouping ------------------------------------------------------------------------
        groups = support.cli_json("dead-letters", "--group")
        by_code = {g["code"]: g for g in groups}
        assert sorted((g["code"], g["count"], g["dossiers"]) for g in groups) == [
            ("http-500", 3, 3),
            ("no-connection", 1, 1),
            ("soap-fault soap:Server", 3, 3),
        ], groups
        assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
        http = by_code["http-500"]
        assert set(http["message_ids"]) == {by_event[e].message_id for e in ("A-1", "B-1", "C-1")}
        assert http["first_seen"] <= http["last_seen"]
        soap, dropped = by_code["soap-fault soap:Server"], by_code["no-connection"]
        code, table, _ = support.cli("dead-letters", "--group")
        assert code == 0
        assert http["group"] in table
        assert soap["group"] in table

        # -- the status summary ------------------------------------------------------------
        status = support.cli_json("status")
        assert status["dead_letters"] == 7
        assert status["dead_letter_groups"] == 3
        assert status["messages_by_state"] == {"dead": 7, "pending": 1}  # A-2 behind A-1
        assert status["blocked_dossiers"] == 7
        assert status["certificate"]["days_left"] > 0
        checks = {c["text"].split(" ")[0]: c["status"] for c in status["checks"]}
        assert checks["RabbitMQ"] == "OK"
        assert any(c["text"].startswith("central application answers") for c in status["checks"])

        # -- one dead letter in full: its tries, its event masked -------------------------
        a_1 = by_event["A-1"].message_id
        shown = support.cli_json("show", a_1)
        assert [(t["kind"], t["attempt"]) for t in shown["attempts"]] == [("retry", 1), ("dead", 2)]
        assert all("HTTP 500" in t["error"] for t in shown["attempts"])
        assert shown["masked"]
        assert a not in shown["event"]["payload"]
        code, out, err = support.cli("show", a_1)
        assert code == 0, err
        assert "2 failed tries" in out
        assert a not in out
        unmasked = support.cli_json("show", a_1, "--unmask", "--actor", "An", "--reason", "T-9")
        assert a in unmasked["event"]["payload"]

        # -- a dry run changes nothing ---------------------------------------------------------
        dry = support.cli_json(
            "replay", "--group", http["group"], "--dry-run", "--actor", "Jan", "--reason", "r"
        )
        assert dry["dry_run"]
        assert len(dry["selected"]) == 3
        assert dry["done"] == []
        assert len(support.desk.dead_letters()) == 7

        # -- a group replayed: every dossier's messages reach the simulator in order -------
        code, out, err = support.cli(
            "replay", "--group", http["group"], "--actor", "Jan", "--reason", "outage INC-7 over"
        )
        assert code == 0, err
        assert "replayed 3 of 3" in out
        logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        [batch] = [line for line in logged if line.get("step") == "replayed"]
        assert batch["count"] == 3
        assert set(batch["message_ids"].split(",")) == set(http["message_ids"])
        answers = support.adapter.answers(["A-1", "A-2", "B-1", "C-1"], timeout=60)
        assert all(outcome(found[-1]) in ("accepted", "refused") for found in answers.values())
        applied = [
            (str(call.dossier_id), call.sequence)
            for call in sim.record()
            if call.outcome is not None and not call.duplicate
        ]
        assert [s for d, s in applied if d == "A"] == [1, 2]
        assert sorted(d for d, _ in applied) == ["A", "A", "B", "C"]

        # -- a bulk replay interrupted after one message, resumed: nothing sent twice ------
        def interrupt_after_first(_message: MessageView, done: bool) -> None:
            if done:
                raise KeyboardInterrupt

        first = support.desk.replay_many(
            Selection(group=soap["group"]),
            "Jan",
            "central application fixed",
            os_user="jpeeters",
            progress=interrupt_after_first,
        )
        assert first.interrupted
        assert len(first.done) == 1
        assert len(support.desk.selected(Selection(group=soap["group"]))) == 2
        code, out, err = support.cli(
            "replay", "--group", soap["group"], "--actor", "Jan", "--reason", "resume"
        )
        assert code == 0, err
        assert "replayed 2 of 2" in out
        code, out, _ = support.cli(
            "replay", "--group", soap["group"], "--actor", "Jan", "--reason", "once more"
        )
        assert code == 0
        assert "replayed 0 of 0" in out
        support.adapter.answers(["D-1", "E-1", "F-1"], timeout=60)
        soap_ids = {by_event[e].message_id for e in ("D-1", "E-1", "F-1")}
        sends = support.sent_ok()
        assert {m: len(sends[m]) for m in soap_ids} == dict.fromkeys(soap_ids, 1)

        # -- discard, restore, replay ------------------------------------------------------
        [g_id] = dropped["message_ids"]
        code, out, err = support.cli(
            "discard", "--group", dropped["group"], "--actor", "An", "--reason", "EPD resends"
        )
        assert code == 0, err
        assert "discarded 1 of 1" in out
        discarded = support.adapter.answers(["G-1"], timeout=30)["G-1"]
        assert outcome(discarded[-1]) == "invalid"
        assert support.desk.dead_letters() == []
        # Published and so marked (the watcher may see it a moment before the store does).
        assert wait_for(lambda: all(a.published for a in support.desk.event("G-1").answers))
        code, out, err = support.cli("restore", g_id, "--actor", "An", "--reason", "EPD did not")
        assert code == 0, err
        assert [m.message_id for m in support.desk.dead_letters()] == [g_id]
        code, _, err = support.cli("restore", g_id, "--actor", "An", "--reason", "twice")
        assert code == 1
        assert "not discarded" in err
        code, _, err = support.cli("replay", g_id, "--actor", "An", "--reason", "sent now")
        assert code == 0, err
        # The watcher holds the discard's answer already: wait for the store to finish it.
        assert wait_for(lambda: support.desk.dossier("G")[0].state == "done", timeout=30)
        assert len(support.sent_ok()[g_id]) == 1

        # -- not found: a sentence and exit code 3 ----------------------------------------
        code, out, err = support.cli("dossier", "NO-SUCH-DOSSIER")
        assert code == 3
        assert out == ""
        assert "no dossier NO-SUCH-DOSSIER" in err
        code, _, err = support.cli("restore", "no-such-id", "--actor", "An", "--reason", "x")
        assert code == 3
        assert "no message no-such-id" in err
        code, _, err = support.cli("event", "no-such-event")
        assert code == 3
        assert support.cli_json("dossier", "A")["messages"][0]["state"] == "done"

        # -- the audit ---------------------------------------------------------------------
        replays = support.cli_json("audit", "--action", "replay", "--limit", "100")
        assert len(replays) == 3 + 1 + 2 + 1  # group, interrupted run, its resumption, G
        assert {line["actor"] for line in replays} == {"Jan", "An"}
        assert all(line["detail"]["os_user"] == "jpeeters" for line in replays)
        by_target: dict[str, list[str]] = defaultdict(list)
        for line in replays:
            by_target[line["target"]].append(line["detail"]["reason"])
        assert all(len(reasons) == 1 for t, reasons in by_target.items() if t != g_id)
        assert by_target[g_id] == ["sent now"]
        mine = support.cli_json("audit", "--actor", "An")
        assert [line["action"] for line in mine] == ["replay", "restore", "discard", "unmask"]
        assert mine[3]["target"] == "A-1"
        assert mine[3]["detail"] == {"reason": "T-9", "os_user": "jpeeters"}
        restore = mine[1]["detail"]
        assert restore["reason"] == "EPD did not"
        assert restore["discard_answer"] == "published"
        assert support.cli_json("audit", "--target", g_id, "--action", "discard")[0]["detail"][
            "bulk"
        ] == {"group": dropped["group"]}
        assert support.cli_json("audit", "--since", "2999-01-01") == []
        assert support.cli_json("audit", "--until", "2000-01-01T00:00+01:00") == []
        assert len(support.cli_json("audit", "--since", "2000-01-01", "--limit", "100")) == 10
        code, _, err = support.cli("audit", "--since", "yesterday")
        assert code == 2
        assert "ISO 8601" in err
        code, _, err = support.cli("replay", "--group", http["group"], "--actor", "Jan")
        assert code == 2
        assert "--reason" in err


@contextmanager
def running(environ: dict[str, str]) -> Iterator[Harness]:
    """A daemon on ``environ``'s settings, with a watcher of its answers."""
    settings = load_settings(None, environ)
    daemon = Daemon(settings)
    address = broker_address(settings)
    with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
        daemon.start()
        publisher = ConfirmedPublisher(address)
        try:
            yield Harness(settings, daemon, watcher, publisher)
        finally:
            publisher.close()
            daemon.stop()


class TestBrokerDeadLetterQueue:
    """``vsb-adapter dlq``: what the adapter could not store, read, requeued and purged."""

    def test_list_show_requeue_and_purge(
        self,
        pki: DevPki,
        broker_names: dict[str, str],
        simulator: Simulator,
        sqlite_url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Two oversized events wait in the queue with RabbitMQ's and the adapter's reason;
        a look leaves them there and masks the body; after the limit is raised one is
        requeued and answered, the other purged, and both actions are audited."""
        environ = adapter_environ(sqlite_url, broker_names, simulator.url, pki)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("SUDO_USER", "jpeeters")
        desk = Cli(capsys)
        small = {**environ, "VSB_BROKER__MAX_EVENT_BYTES": "1024"}
        insz = person(simulator, 41)
        with running(small) as adapter:
            adapter.send(
                events.application("big-1", "BIG1", 1, insz),
                events.application("big-2", "BIG2", 1, person(simulator, 43)),
            )
            assert wait_for(lambda: len(desk.cli_json("dlq", "list")) == 2, timeout=20)
        listed = desk.cli_json("dlq", "list")
        assert [d["event_id"] for d in listed] == ["big-1", "big-2"]
        assert all(d["reason"].startswith("oversized: 4") for d in listed)
        shown = desk.cli_json("dlq", "show", "big-1")
        assert insz not in shown["body"]
        assert '"resourceType": "Bundle"' in shown["body"]
        assert len(desk.cli_json("dlq", "list")) == 2  # looking took nothing off
        # A look at the head alone leaves the order as it was (a quorum queue puts what a
        # channel gives back behind what it did not hand out).
        assert [d["event_id"] for d in desk.cli_json("dlq", "list", "--limit", "1")] == ["big-1"]
        assert [d["event_id"] for d in desk.cli_json("dlq", "list")] == ["big-1", "big-2"]
        code, _, err = desk.cli("dlq", "show", "9")
        assert code == 3
        assert "no message 9" in err

        with running(environ) as adapter:  # the limit raised back to its default
            code, out, err = desk.cli(
                "dlq", "requeue", "big-1", "--actor", "Jan", "--reason", "limit raised"
            )
            assert code == 0, err
            assert "requeued 1 message(s)" in out
            answer = adapter.answers(["big-1"], timeout=60)["big-1"][-1]
            assert outcome(answer) == "accepted"
        assert [d["event_id"] for d in desk.cli_json("dlq", "list")] == ["big-2"]
        code, out, err = desk.cli(
            "dlq", "purge", "--all", "--actor", "Jan", "--reason", "EPD resent"
        )
        assert code == 0, err
        assert "purged 1 message(s)" in out
        assert desk.cli_json("dlq", "list") == []
        code, _, _ = desk.cli("dlq", "requeue", "big-2", "--actor", "Jan", "--reason", "again")
        assert code == 3
        audit = desk.cli_json("audit", "--actor", "Jan")
        assert [(a["action"], a["target"]) for a in audit] == [
            ("dlq-purge", "big-2"),
            ("dlq-requeue", "big-1"),
        ]
        assert audit[1]["detail"]["os_user"] == "jpeeters"
        assert audit[1]["detail"]["reason_recorded"].startswith("oversized")
