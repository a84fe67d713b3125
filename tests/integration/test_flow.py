"""End to end on real RabbitMQ, SQL and SOAP: every event gets its answer, in dossier order."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable

import pytest

from adapter.central import ZeepCentral
from adapter.devpki import DevPki, create_dev_pki
from adapter.signing import Signer
from adapter.store import Support
from simulator import Simulator
from tests.integration.conftest import make_settings
from tests.support import events
from tests.support.events import EXAMPLE_NAMES, INVALID_EXAMPLE_NAMES
from tests.support.rig import Harness, issue_codes, outcome, reference, wait_for

Start = Callable[..., Harness]


EXAMPLE_OUTCOMES = {
    "01-insurance-status": "accepted",
    "02-reva-application-diagnosis": "accepted",
    "03-reva-stop": "accepted",
    "04-reva-application-can-join": "in-beraad",
    "05-reva-application-cannot-join": "refused",
    "06-invalid-insz": "invalid",
    "07-reva-application-new": "accepted",
    **{name: "accepted" for name in EXAMPLE_NAMES if name >= "08"},
    "26-pvt-admission-new": "accepted",
    "27-pvt-admission-migration": "accepted",
    "28-pvt-extension": "accepted",
    "29-pvt-discharge": "accepted",
    "30-pvt-cancel": "accepted",
    "32-increased-allowance-status": "accepted",
    "33-personal-share": "accepted",
    **{name: "part" for name in EXAMPLE_NAMES if "34" <= name < "38"},
    "38-invoice-batch-reva": "refused",
}
"""The first answer of each bundled example sent in name order on 2026-11-20: 08 to 22 are
one dossier's application and its every modification, 23 to 25 another's extension; 26 to
30 two PVT dossiers (a new request, its extension and discharge; a migration file and its
cancel); 32 and 33 are the look-ups before invoicing (numbers 2 and 3 of 01's dossier); 34
to 37 are invoices, answered only with the batch that carries them: 38 carries 34, whose
made-up VSB reference the central application refuses (an F error on a batch this small is
over 5 %: refused whole). For 38 the final answer counts: its "in beraad" is not published
when the mailbox brought the decision first."""


def test_the_examples_get_their_answers(start_adapter: Start, store_url: str) -> None:
    """The bundled examples are accepted, in beraad, refused or invalid as documented."""
    names = sorted(EXAMPLE_NAMES + INVALID_EXAMPLE_NAMES)
    assert sorted(EXAMPLE_OUTCOMES) == names
    adapter = start_adapter(store_url)
    ids = dict(
        zip(
            names,
            adapter.send(*(json.dumps(events.example(n)).encode() for n in names)),
            strict=True,
        )
    )
    answered = [name for name in names if EXAMPLE_OUTCOMES[name] != "part"]
    answers = adapter.answers([ids[name] for name in answered], final=False)
    first = {name: answers[ids[name]][0] for name in answered}
    batch = "38-invoice-batch-reva"
    first[batch] = adapter.answers([ids[batch]], timeout=30)[ids[batch]][-1]
    assert {name: outcome(first[name]) for name in answered} == {
        name: EXAMPLE_OUTCOMES[name] for name in answered
    }
    application = reference(first["02-reva-application-diagnosis"])
    assert application is not None
    assert reference(first["03-reva-stop"]) == application
    assert reference(first["07-reva-application-new"]) not in (None, application)
    running = reference(first["08-reva-application-running"])
    assert {reference(first[n]) for n in names if "08" < n < "23"} == {running}
    admitted, migrated = (
        reference(first[n]) for n in ("26-pvt-admission-new", "27-pvt-admission-migration")
    )
    assert None not in (admitted, migrated)
    assert admitted != migrated
    assert {reference(first[n]) for n in ("28-pvt-extension", "29-pvt-discharge")} == {admitted}
    assert reference(first["30-pvt-cancel"]) == migrated
    assert "insz-check-digit" in issue_codes(first["06-invalid-insz"])
    assert "VSB-AFF-02" in issue_codes(first["05-reva-application-cannot-join"])
    assert "VSB-AFF-01" in issue_codes(first["04-reva-application-can-join"])
    issue = first["06-invalid-insz"]["entry"][1]["resource"]["issue"][0]
    assert issue["expression"][0].startswith("Patient.identifier")
    for name, item in (
        ("32-increased-allowance-status", "increased-allowance"),
        ("33-personal-share", "personal-share"),
    ):
        [insurance] = first[name]["entry"][1]["resource"]["insurance"]
        assert insurance["item"][0]["category"]["coding"][0]["code"] == item


def test_one_dossier_is_sent_one_at_a_time_in_order(
    start_adapter: Start, sqlite_url: str, simulator: Simulator
) -> None:
    """Five messages of one dossier never overlap and keep their order; ten others overlap."""
    simulator.set_latency(150)
    adapter = start_adapter(sqlite_url)
    bodies = [events.application("serial-1", "SERIAL", 1)]
    bodies += [events.stop(f"serial-{n}", "SERIAL", n) for n in range(2, 6)]
    others = [events.application(f"other-{n}", f"OTHER-{n}", 1) for n in range(10)]
    # Arrival order is shuffled on purpose: the sequence number decides, not the queue.
    ids = adapter.send(*reversed(bodies[1:]), *others, bodies[0])
    adapter.answers(ids, timeout=60)

    calls = [c for c in simulator.record() if c.http_status == 200]
    serial = [c for c in calls if c.dossier_id == "SERIAL"]
    assert [c.sequence for c in serial] == [1, 2, 3, 4, 5]
    assert simulator.dossier_overlaps() == []
    parallel = [c for c in calls if c.dossier_id and c.dossier_id.startswith("OTHER")]
    overlapping = [
        (a, b)
        for a, b in itertools.combinations(parallel, 2)
        if a.received_at < (b.finished_at or 0) and b.received_at < (a.finished_at or 0)
    ]
    assert overlapping, "different dossiers should have been in processing together"


def test_a_stop_takes_the_reference_of_its_accepted_application(
    start_adapter: Start, sqlite_url: str
) -> None:
    """The stop carries the VSB reference the application got, filled in by the adapter."""
    adapter = start_adapter(sqlite_url)
    ids = adapter.send(events.application("a-1", "D-REF", 1), events.stop("a-2", "D-REF", 2))
    answers = adapter.answers(ids)
    assert outcome(answers["a-2"][0]) == "accepted"
    assert reference(answers["a-2"][0]) == reference(answers["a-1"][0])


def test_a_stop_of_a_refused_application_is_refused_without_sending(
    start_adapter: Start, sqlite_url: str, simulator: Simulator
) -> None:
    """The adapter refuses the stop with the application's reason and never sends it."""
    adapter = start_adapter(sqlite_url)
    ids = adapter.send(
        events.application("r-1", "D-REFUSED", 1, insz=events.CANNOT_JOIN),
        events.stop("r-2", "D-REFUSED", 2, insz=events.CANNOT_JOIN),
    )
    answers = adapter.answers(ids)
    assert outcome(answers["r-2"][0]) == "refused"
    assert {"application-refused", "VSB-AFF-02"} <= issue_codes(answers["r-2"][0])
    assert [c.kind for c in simulator.record()] == ["RevaApplication"]


def test_an_in_beraad_decision_comes_through_the_mailbox(
    start_adapter: Start, store_url: str, simulator: Simulator
) -> None:
    """After in beraad the dossier waits; the fund's decision is published and lets it go on."""
    adapter = start_adapter(store_url)
    ids = adapter.send(
        events.application("b-1", "D-BERAAD", 1, insz=events.CAN_JOIN),
        events.stop("b-2", "D-BERAAD", 2, insz=events.CAN_JOIN),
    )
    first = adapter.answers(ids[:1], final=False)
    assert outcome(first["b-1"][0]) == "in-beraad"
    assert [c.kind for c in simulator.record()] == ["RevaApplication"]
    [case] = simulator.pending()
    simulator.decide(case.message_id, decision="accept")
    answers = adapter.answers(ids, timeout=30)
    decision = [a for a in answers["b-1"] if outcome(a) == "accepted"]
    assert decision, "the decision should have been published"
    assert outcome(answers["b-2"][0]) == "accepted"
    assert reference(answers["b-2"][0]) == reference(decision[0])
    # The decision is confirmed to the central application only after it was published.
    assert wait_for(lambda: simulator.mailbox(adapter.settings.facility.nihdi) == [])


def test_a_redelivered_event_has_no_second_effect(
    start_adapter: Start, sqlite_url: str, simulator: Simulator
) -> None:
    """The same event published twice is sent once and answered once."""
    adapter = start_adapter(sqlite_url)
    body = events.application("dup-1", "D-DUP", 1)
    adapter.send(body, body)
    adapter.answers(["dup-1"])
    adapter.answers(["dup-1"], timeout=1)
    assert len(simulator.record()) == 1
    assert len({a.answer_id for a in adapter.watcher.seen}) == 1


def test_transient_failures_are_retried_with_the_same_message_id(
    start_adapter: Start, sqlite_url: str, simulator: Simulator
) -> None:
    """After HTTP 500s and a dropped connection after applying, one effect and one answer."""
    simulator.set_faults("http500", next=2)
    adapter = start_adapter(sqlite_url)
    adapter.answers(adapter.send(events.application("t-1", "D-T1", 1)))
    simulator.set_faults("apply-then-drop", next=1)
    answers = adapter.answers(adapter.send(events.application("t-2", "D-T2", 1)))
    assert outcome(answers["t-2"][0]) == "accepted"
    t2 = [c for c in simulator.record() if c.dossier_id == "D-T2"]
    assert len({c.message_id for c in t2}) == 1
    assert [c.duplicate for c in t2] == [False, True]
    assert simulator.references_issued == 2


def test_a_dead_letter_blocks_its_dossier_until_replayed(
    start_adapter: Start,
    sqlite_url: str,
    simulator: Simulator,
    tmp_path: object,
    pki: DevPki,
    broker_names: dict[str, str],
) -> None:
    """A message refused as untrusted is a dead letter, holds its dossier, and replays fine."""
    from pathlib import Path

    stranger = create_dev_pki(Path(str(tmp_path)) / "stranger", "71012314001")
    untrusted = Signer.from_keystore(stranger.keystore, b"dev-only")
    # The stranger signs, but TLS shows the facility's registered certificate: the refusal is
    # then the signature's (a client fault, dead letter), not the handshake's (transient).
    settings = make_settings(sqlite_url, broker_names, simulator, pki).central
    facility_tls = dataclasses.replace(
        settings,
        client_certificate="files",
        client_cert_file=str(pki.facility_cert),
        client_key_file=str(pki.facility_key),
    )
    central = ZeepCentral(facility_tls, untrusted)
    adapter = start_adapter(sqlite_url, signer=untrusted, central=central)
    adapter.send(events.application("x-1", "D-DEAD", 1), events.stop("x-2", "D-DEAD", 2))
    support = Support(adapter.daemon.store)
    assert wait_for(lambda: bool(support.dead_letters()))
    [dead] = support.dead_letters()
    # The WS-Security header, checked first, names the stranger's certificate.
    assert "wsse:FailedAuthentication: unknown certificate" in (dead.last_error or "")
    assert [m.state for m in support.dossier("dossier:D-DEAD")] == ["dead", "pending"]
    adapter.daemon.stop()

    fixed = start_adapter(sqlite_url)
    support = Support(fixed.daemon.store)
    support.replay(dead.message_id, "tester", fixed.daemon.clock.now())
    answers = fixed.answers(["x-1", "x-2"])
    assert outcome(answers["x-2"][0]) == "accepted"
    accepted = [c for c in simulator.record() if c.http_status == 200]
    assert next(c.message_id for c in accepted) == dead.message_id


@pytest.mark.parametrize("count", [3])
def test_lookups_run_beside_a_waiting_dossier(
    start_adapter: Start, sqlite_url: str, count: int
) -> None:
    """Look-ups of a dossier held in beraad are answered at once."""
    adapter = start_adapter(sqlite_url)
    ids = adapter.send(
        events.application("w-1", "D-WAIT", 1, insz=events.CAN_JOIN),
        *[events.lookup(f"w-l{n}", "D-WAIT", n + 2) for n in range(count)],
    )
    answers = adapter.answers(ids, final=False)
    assert all(outcome(answers[f"w-l{n}"][0]) == "accepted" for n in range(count))


@pytest.mark.parametrize("kind", ["apply-then-garbage", "apply-then-empty", "apply-then-entities"])
def test_an_unreadable_answer_is_resent_with_its_id(
    start_adapter: Start, sqlite_url: str, simulator: Simulator, kind: str
) -> None:
    """An HTTP 200 that cannot be read is no verdict: the resend gets the stored answer."""
    simulator.set_faults(kind, next=1)
    adapter = start_adapter(sqlite_url)
    answers = adapter.answers(adapter.send(events.application("u-1", "D-U", 1)))
    assert [outcome(a) for a in answers["u-1"]] == ["accepted"]
    calls = simulator.record()
    assert len({c.message_id for c in calls}) == 1
    assert [c.duplicate for c in calls] == [False, True]
    assert simulator.references_issued == 1
    assert Support(adapter.daemon.store).dead_letters() == []
