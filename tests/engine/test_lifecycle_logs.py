"""A real daemon's JSON log: one line per lifecycle step of each message, no personal data.

One daemon on SQLite, the local RabbitMQ and the simulator over HTTP logs at DEBUG as JSON
into a buffer while events go through it end to end: a look-up, an application, an invalid
event, one the simulator refuses, one that fails once and then passes, one that becomes a
dead letter and is replayed, one that becomes a dead letter and is discarded, one answered
in beraad whose decision comes through the mailbox. Every event carries an INSZ, a name, a
birth date and a diagnosis text; its dossier id holds a name and an INSZ too.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
from collections import Counter
from datetime import date, datetime
from typing import Any, NamedTuple

import pytest

from adapter import lifecycle
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.logs import configure_logging
from adapter.support import SupportDesk
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.conftest import signing_config
from tests.integration.conftest import make_settings
from tests.support import events
from tests.support.processes import unique_broker_names
from tests.support.rig import Harness, outcome, wait_for

pytestmark = pytest.mark.rabbitmq

FAMILY, GIVEN, BIRTH_DATE = "Vanderstraeten", "Godelieve", "1985-07-30"
DIAGNOSIS = "Hemiparese links na een herseninfarct in Zwartberg"
PERSONAL = (FAMILY, GIVEN, BIRTH_DATE, DIAGNOSIS)
_ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")
_PRINTED_INSZ = re.compile(r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}")
_TAG = re.compile(r"\b[dk]:[0-9a-f]{12}\b")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def personal(body: bytes) -> bytes:
    """The event with a name and a birth date on its patient and our diagnosis text."""
    document = json.loads(body)
    for entry in document["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": FAMILY, "given": [GIVEN]}]
            resource["birthDate"] = BIRTH_DATE
        for diagnosis in resource.get("diagnosis", []):
            diagnosis["diagnosisCodeableConcept"]["text"] = DIAGNOSIS
    return json.dumps(document).encode()


def dossier(name: str) -> str:
    """A dossier id as an EPD may make one: with the person's name and INSZ in it."""
    return f"{name}-{FAMILY}-{events.AFFILIATED}"


class Run(NamedTuple):
    """What the run logged, and the ids it used."""

    lines: list[dict[str, Any]]
    raw: str
    dossiers: dict[str, str]
    """The EPD's dossier id of each event."""
    message_ids: dict[str, str]
    """The message id of each valid event, as the store gave it."""
    tag_of: dict[str, str]
    """The dossier tag the log should show for each event."""
    desk: SupportDesk


@pytest.fixture(scope="module")
def run(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Drive the events through a daemon logging JSON at DEBUG; the lines once it stopped."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    configure_logging("DEBUG", as_json=True)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    config = signing_config(pki, today=date(2026, 11, 20))
    store = tmp_path_factory.mktemp("lifecycle") / "store.db"
    ids = {
        "lookup": "lc-lookup",
        "application": "lc-application",
        "invalid": "lc-invalid",
        "refused": "lc-refused",
        "transient": "lc-transient",
        "replayed": "lc-replayed",
        "discarded": "lc-discarded",
        "beraad": "lc-beraad",
    }
    dossiers = {ids[name]: dossier(name) for name in ids}
    bodies = {
        "lookup": events.lookup(ids["lookup"], dossiers[ids["lookup"]], 1),
        "application": events.application(ids["application"], dossiers[ids["application"]]),
        "invalid": events.placed(
            events.example("06-invalid-insz"), ids["invalid"], dossiers[ids["invalid"]], 1
        ),
        "refused": events.placed(
            events.example("05-reva-application-cannot-join"),
            ids["refused"],
            dossiers[ids["refused"]],
            1,
        ),
        "transient": events.application(ids["transient"], dossiers[ids["transient"]]),
        "replayed": events.application(ids["replayed"], dossiers[ids["replayed"]]),
        "discarded": events.application(ids["discarded"], dossiers[ids["discarded"]]),
        "beraad": events.application(ids["beraad"], dossiers[ids["beraad"]], insz=events.CAN_JOIN),
    }
    bodies = {name: personal(body) for name, body in bodies.items()}
    try:
        with Simulator(config) as simulator, unique_broker_names() as names:
            settings = make_settings(f"sqlite:///{store}", names, simulator, pki)
            # One quick try and two attempts: one fault is a retry, two are a dead letter.
            settings = dataclasses.replace(
                settings,
                delivery=dataclasses.replace(settings.delivery, quick_tries=1, max_attempts=2),
            )
            daemon = Daemon(settings)
            address = broker_address(settings)
            with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
                daemon.start()
                publisher = ConfirmedPublisher(address)
                adapter = Harness(settings, daemon, watcher, publisher)
                desk = SupportDesk(daemon.store, daemon.facility, daemon.clock)
                try:
                    # Faults strike the next Submit whatever its message: one event at a time.
                    simulator.set_faults("soap-server-fault", next=1)
                    adapter.send(bodies["transient"])
                    adapter.answers([ids["transient"]])
                    for name in ("replayed", "discarded"):
                        simulator.set_faults("soap-server-fault", next=2)
                        adapter.send(bodies[name])
                        assert wait_for(lambda: bool(desk.dead_letters()), 20)
                        simulator.clear_faults()
                        [dead] = desk.dead_letters()
                        if name == "replayed":
                            desk.replay(dead.message_id, "tester")
                        else:
                            desk.discard(dead.message_id, "tester", "given up in a test")
                        adapter.answers([ids[name]])
                    # In beraad: the decision comes later, through the mailbox.
                    adapter.answers(adapter.send(bodies["beraad"]), final=False)
                    [case] = simulator.pending()
                    simulator.decide(case.message_id, decision="accept")
                    adapter.answers([ids["beraad"]])
                    rest = [bodies[n] for n in ("lookup", "application", "invalid", "refused")]
                    answers = adapter.answers(adapter.send(*rest))
                    assert outcome(answers[ids["refused"]][0]) == "refused"
                    assert outcome(answers[ids["invalid"]][0]) == "invalid"
                    message_ids = {
                        m.event_id: m.message_id
                        for d in set(dossiers.values())
                        for m in desk.dossier(d)
                        # An invalid event's row only holds its number: no VSB message.
                        if not m.message_id.startswith("invalid-")
                    }
                    # Every answer is published (and logged) before the daemon stops.
                    assert wait_for(lambda: buffer.getvalue().count('"published"') >= 9, 10)
                finally:
                    publisher.close()
                    daemon.stop()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
    raw = buffer.getvalue()
    lines = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
    tags = lifecycle.DossierTags(daemon.store.sealer.keyring.index_secret)
    tag_of = {event_id: tags.of_id(d) for event_id, d in dossiers.items()}
    return Run(lines, raw, dossiers, message_ids, tag_of, desk)


def steps_of(run: Run, event_id: str) -> Counter[str]:
    """How many lines each step logged for an event."""
    return Counter(line["step"] for line in run.lines if line.get("event_id") == event_id)


EXPECTED_STEPS = {
    "lc-lookup": ["received", "stored", "sent", "answered", "published"],
    "lc-application": ["received", "stored", "sent", "answered", "published"],
    "lc-invalid": ["received", "stored", "answered", "published"],
    "lc-refused": ["received", "stored", "sent", "answered", "published"],
    "lc-transient": ["received", "stored", "retried", "sent", "answered", "published"],
    "lc-replayed": [
        "received",
        "stored",
        "retried",
        "dead-lettered",
        "replayed",
        "sent",
        "answered",
        "published",
    ],
    "lc-beraad": [
        "received",
        "stored",
        "sent",
        "answered",
        "published",
        "answered",
        "published",
    ],
    "lc-discarded": [
        "received",
        "stored",
        "retried",
        "dead-lettered",
        "discarded",
        "answered",
        "published",
    ],
}
STAGES = {
    "received": {"ingest"},
    "stored": {"ingest"},
    "sent": {"send"},
    "answered": {"ingest", "send", "mailbox", "support"},
    "published": {"outbox"},
    "retried": {"send"},
    "dead-lettered": {"send", "ingest"},
    "replayed": {"support"},
    "discarded": {"support"},
}
TIMED = {"received", "stored", "sent", "answered", "published", "replayed", "discarded"}


class TestLifecycleLines:
    """Each message's life is one line per step, with its ids, stage and duration."""

    @pytest.mark.parametrize("event_id", sorted(EXPECTED_STEPS))
    def test_one_line_per_step(self, run: Run, event_id: str) -> None:
        """Exactly the steps the event went through, each logged once, in that order."""
        assert steps_of(run, event_id) == Counter(EXPECTED_STEPS[event_id])
        order = [line["step"] for line in run.lines if line.get("event_id") == event_id]
        assert order == EXPECTED_STEPS[event_id]

    @pytest.mark.parametrize("event_id", sorted(EXPECTED_STEPS))
    def test_the_lines_carry_ids_stage_and_duration(self, run: Run, event_id: str) -> None:
        """Message and answer ids where they exist, the dossier's tag, a stage, a duration."""
        lines = [line for line in run.lines if line.get("event_id") == event_id]
        message_id = run.message_ids.get(event_id)
        for line in lines:
            assert line["message"] == line["step"]
            assert line["stage"] in STAGES[line["step"]], line
            assert line["logger"] == "adapter.lifecycle"
            if line["step"] in TIMED:
                assert isinstance(line["duration_ms"], int | float), line
                assert line["duration_ms"] >= 0
            if line["step"] in ("answered", "published"):
                assert line["answer_id"], line
            if line["step"] not in ("received", "published"):
                assert line["dossier"] == run.tag_of[event_id], line
            if message_id is not None and line["step"] not in ("received", "published"):
                assert line["message_id"] == message_id, line
        answers = {line["answer_id"] for line in lines if line["step"] == "answered"}
        assert answers == {line["answer_id"] for line in lines if line["step"] == "published"}

    def test_an_invalid_event_has_no_message(self, run: Run) -> None:
        """The invalid event is stored as invalid, with its issue named, and answered here."""
        stored = next(
            line
            for line in run.lines
            if line.get("event_id") == "lc-invalid" and line["step"] == "stored"
        )
        assert stored["result"] == "invalid"
        assert "insz-check-digit" in stored["issues"]
        assert "message_id" not in stored
        answered = next(
            line
            for line in run.lines
            if line.get("event_id") == "lc-invalid" and line["step"] == "answered"
        )
        assert (answered["source"], answered["outcome"]) == ("adapter", "invalid")

    def test_a_decision_in_beraad_is_answered_from_the_mailbox(self, run: Run) -> None:
        """The in-beraad answer comes from the Submit, the decision from the mailbox."""
        answered = [
            (line["stage"], line["source"], line["outcome"])
            for line in run.lines
            if line.get("event_id") == "lc-beraad" and line["step"] == "answered"
        ]
        assert answered == [("send", "sync", "in-beraad"), ("mailbox", "mailbox", "accepted")]

    def test_retries_and_dead_letters_say_why(self, run: Run) -> None:
        """A retry names its attempt and next try; a dead letter is an ERROR with its error."""
        for line in run.lines:
            if line.get("step") == "retried":
                assert line["attempt"] == 1, line
                assert line["next_try"], line
                assert line["error"], line
                assert line["level"] == "INFO"
            if line.get("step") == "dead-lettered":
                assert line["level"] == "ERROR"
                assert "simulated server fault" in line["error"]

    def test_every_line_has_an_iso_time_with_milliseconds_and_zone(self, run: Run) -> None:
        """Ours and the libraries' lines alike: ``2026-12-02T14:21:36.123+00:00``."""
        assert {line["logger"].split(".")[0] for line in run.lines} >= {"adapter", "pika"}
        for line in run.lines:
            assert _ISO_MS.match(line["time"]), line["time"]
            assert datetime.fromisoformat(line["time"]).utcoffset() is not None
        assert all(line.startswith("{") for line in run.raw.splitlines()), "JSON only"

    def test_the_dossier_command_takes_the_tag(self, run: Run) -> None:
        """The tag a line shows finds the dossier's messages, as its id does."""
        by_tag = run.desk.dossier(run.tag_of["lc-application"])
        by_id = run.desk.dossier(run.dossiers["lc-application"])
        assert [m.message_id for m in by_tag] == [m.message_id for m in by_id]
        assert [m.event_id for m in by_tag] == ["lc-application"]
        assert run.desk.dossier("d:000000000000") == []


class TestNoPersonalData:
    """At DEBUG, no line of ours or of a library shows the events' personal data."""

    def test_no_name_birth_date_diagnosis_or_dossier_id(self, run: Run) -> None:
        """Names, the birth date, the diagnosis text and the dossier ids appear nowhere."""
        product = [line for line in run.lines if not line["logger"].startswith("simulator")]
        assert {line["level"] for line in product} >= {"DEBUG", "INFO", "ERROR"}
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in product)
        for value in (*PERSONAL, *run.dossiers.values()):
            assert value not in text, value

    def test_no_eleven_digit_number_in_clear(self, run: Run) -> None:
        """No INSZ-like number, bare or printed, in any line (a UUID's digits aside)."""
        product = [line for line in run.lines if not line["logger"].startswith("simulator")]
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in product)
        # Message and answer ids (UUIDs) and dossier tags are kept whole: their hex digits
        # may hold 11 digits in a row.
        text = _TAG.sub("<tag>", _UUID.sub("<uuid>", text))
        assert _ELEVEN_DIGITS.findall(text) == []
        assert _PRINTED_INSZ.findall(text) == []

    def test_the_libraries_were_heard(self, run: Run) -> None:
        """pika and urllib3 logged at DEBUG: the check above covered their lines too."""
        debug = {line["logger"].split(".")[0] for line in run.lines if line["level"] == "DEBUG"}
        assert {"pika", "urllib3"} <= debug
