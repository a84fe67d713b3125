"""Ingest stores a whole batch of deliveries at once and refuses each bad event on its own.

Every test runs on SQLite and on PostgreSQL: what one store takes the other may refuse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from adapter.engine.ingest import Ingest
from adapter.errors import StoreUnavailable, UnstorableData
from adapter.store import IngestResult, NewEvent, Store, Support
from adapter.store.tables import EVENTS
from adapter.testing import FixedClock
from mappings import Facility
from monitoring import Metrics
from queues import Delivery, Disposition
from tests.support import events

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


def deliveries(*bodies: bytes) -> list[Delivery]:
    return [Delivery(body=b, redelivered=False, message_id=None) for b in bodies]


def ingest(store: Store, *bodies: bytes, metrics: Metrics | None = None) -> list[Disposition]:
    handler = Ingest(
        store, Facility("71012314001", "40012345"), FixedClock(NOW), metrics or Metrics()
    )
    return handler(deliveries(*bodies))


def answers_by_event(store: Store) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for answer in store.unpublished_answers(1000):
        found.setdefault(answer.event_id, []).append(json.loads(answer.body))
    return found


def issue_codes(answer: dict[str, Any]) -> list[str]:
    return [
        coding["code"]
        for issue in answer["entry"][1]["resource"].get("issue", [])
        for coding in issue["details"]["coding"]
    ]


def with_dossier(body: bytes, dossier: str) -> bytes:
    document = json.loads(body)
    document["entry"][0]["resource"]["extension"][0]["valueString"] = dossier
    return json.dumps(document).encode()


class RefusingStore(Store):
    """The real store, except that batches holding ``event_id`` fail as the test says."""

    def __init__(self, store: Store, event_id: str, error: Exception, times: int = 99) -> None:
        super().__init__(store.engine, sealer=store.sealer)
        self.event_id, self.error, self.times = event_id, error, times

    def ingest_many(self, events: Sequence[NewEvent], now: datetime) -> list[IngestResult]:
        if self.times > 0 and any(e.event_id == self.event_id for e in events):
            self.times -= 1
            raise self.error
        return super().ingest_many(events, now)


class TestBatches:
    """A batch is stored whole, and what is wrong with one event stays with it."""

    def test_a_mixed_batch_is_stored_and_acknowledged_whole(self, store: Store) -> None:
        """Valid, invalid and unreadable events of one batch are all stored and acknowledged."""
        bad = json.loads(events.application("bad", "D2", 1))
        bad["entry"][1]["resource"]["identifier"][0]["value"] = "85073003329"
        dispositions = ingest(
            store,
            events.application("good", "D1", 1),
            json.dumps(bad).encode(),
            b"not json",
            events.stop("next", "D1", 2),
        )
        assert dispositions == [Disposition.ACK] * 4
        assert [m.event_id for m in Support(store).dossier("dossier:D1")] == ["good", "next"]
        refused = answers_by_event(store)
        assert set(refused) == {"bad", next(e for e in refused if e.startswith("unreadable-"))}

    def test_a_number_used_twice_in_one_batch_refuses_the_second(self, store: Store) -> None:
        """Two events with the same dossier number in one batch: the later one is refused."""
        ingest(store, events.application("first", "D1", 1), events.stop("second", "D1", 1))
        [answer] = answers_by_event(store)["second"]
        assert issue_codes(answer) == ["sequence-taken"]
        assert [m.event_id for m in Support(store).dossier("dossier:D1")] == ["first"]

    def test_a_redelivered_batch_changes_nothing(self, store: Store) -> None:
        """The same batch again is acknowledged and stores nothing new."""
        batch = (events.application("a", "D1", 1), events.stop("b", "D1", 2))
        ingest(store, *batch)
        assert ingest(store, *batch) == [Disposition.ACK, Disposition.ACK]
        assert len(Support(store).dossier("dossier:D1")) == 2
        assert answers_by_event(store) == {}


class TestPoison:
    """Bodies that used to take their whole batch down are refused one by one."""

    POISON = events.UNREADABLE_POISON

    def test_every_poison_is_answered_and_the_valid_neighbours_are_stored(
        self, store: Store
    ) -> None:
        """A batch with each poison kind between valid events: all acked, each answered."""
        surrogate = with_dossier(events.application("p-surrogate", "P1", 1), "REVA\ud800")
        zero_width = with_dossier(events.application("p-zero-width", "P2", 1), "REVA\u200b1")
        bidi = with_dossier(events.application("p-bidi", "P3", 1), "REVA\u202e1")
        poison = [*self.POISON.values(), surrogate, zero_width, bidi]
        valid = [events.application(f"v-{n}", f"V{n}", 1) for n in range(len(poison))]
        batch = [body for pair in zip(valid, poison, strict=True) for body in pair]
        assert ingest(store, *batch) == [Disposition.ACK] * len(batch)
        support = Support(store)
        for n in range(len(valid)):
            assert [m.state for m in support.dossier(f"dossier:V{n}")] == ["pending"]
        answers = answers_by_event(store)
        codes = {event_id: issue_codes(found[0]) for event_id, found in answers.items()}
        assert codes["p-surrogate"][:2] == ["bad-character", "dossier-id"]
        assert codes["p-zero-width"] == ["dossier-id"]
        assert codes["p-bidi"] == ["dossier-id"]
        # A body that cannot be decoded has no readable event id: answered under its digest.
        unreadable = sorted(codes[e][0] for e in codes if e.startswith("unreadable-"))
        assert unreadable == sorted(
            ["too-deep", "number", "not-json", "not-json", "not-json", "not-object", "not-json"]
        )

    def test_a_nul_byte_is_stored_replaced(self, store: Store) -> None:
        """A raw NUL (PostgreSQL text cannot hold one) is stored as U+FFFD with its refusal."""
        assert ingest(store, self.POISON["nul"]) == [Disposition.ACK]
        [event_id] = answers_by_event(store)
        with store.engine.connect() as db:
            stored = db.scalar(select(EVENTS.c.payload).where(EVENTS.c.event_id == event_id))
        assert str(stored).startswith("vsb1:")  # sealed; opened, it is the text as refused
        payload = store.event_payload(event_id)
        assert payload == self.POISON["nul"].decode().replace("\x00", "\ufffd")


class TestMetricLabels:
    """Event codes become metric labels only when registered."""

    def test_an_unknown_event_code_is_counted_as_unknown(self, store: Store) -> None:
        """A code the contract lacks adds no time series of its own."""
        document = json.loads(events.application("odd", "D-odd", 1))
        document["entry"][0]["resource"]["eventCoding"]["code"] = "made-up-code"
        metrics = Metrics()
        ingest(store, json.dumps(document).encode(), metrics=metrics)
        assert metrics.events.labels("unknown", "invalid")._value.get() == 1
        labels = {s.labels.get("event_code") for m in metrics.registry.collect() for s in m.samples}
        assert "made-up-code" not in labels


class TestDuplicateIds:
    """An event id names one body: a redelivery is silent, another body is refused."""

    def test_the_same_id_with_another_body_is_refused_and_the_first_stands(
        self, store: Store
    ) -> None:
        """The second body is answered ``event-id-conflict``; the first event is untouched."""
        first = events.application("same", "D1", 1)
        second = events.application("same", "D2", 1)
        metrics = Metrics()
        ingest(store, first)
        assert ingest(store, second, metrics=metrics) == [Disposition.ACK]
        [answer] = answers_by_event(store)["same"]
        assert issue_codes(answer) == ["event-id-conflict"]
        assert answer["entry"][1]["resource"]["issue"][0]["expression"] == ["Bundle.id"]
        assert [m.event_id for m in Support(store).dossier("dossier:D1")] == ["same"]
        assert Support(store).dossier("dossier:D2") == []
        assert metrics.events.labels("reva-application", "conflict")._value.get() == 1

    def test_a_conflict_redelivered_is_answered_once(self, store: Store) -> None:
        """The conflicting body delivered again gets no second answer."""
        ingest(store, events.application("same", "D1", 1))
        second = events.application("same", "D2", 1)
        ingest(store, second)
        ingest(store, second)
        assert len(answers_by_event(store)["same"]) == 1

    def test_the_same_body_again_is_silent(self, store: Store) -> None:
        """A redelivery of the same body gets no answer at all."""
        body = events.application("same", "D1", 1)
        ingest(store, body)
        ingest(store, body)
        assert answers_by_event(store) == {}


class TestStoreErrors:
    """What the store refuses for good costs one event; a store that is down costs none."""

    def handler(self, store: Store) -> Ingest:
        return Ingest(store, Facility("71012314001", "40012345"), FixedClock(NOW), Metrics())

    def test_an_event_the_store_refuses_is_stored_bare_and_its_batch_goes_on(
        self, store: Store
    ) -> None:
        """Refused in its batch and alone, the event is kept escaped and answered unstorable."""
        refusing = RefusingStore(store, "poison", UnstorableData("DataError"), times=2)
        batch = deliveries(
            events.application("a", "D1", 1),
            events.application("poison", "D2", 1),
            events.application("b", "D3", 1),
        )
        assert self.handler(refusing)(batch) == [Disposition.ACK] * 3
        support = Support(store)
        assert [m.state for m in support.dossier("dossier:D1")] == ["pending"]
        assert [m.state for m in support.dossier("dossier:D3")] == ["pending"]
        # The bare refusal keeps the dossier and number, so D2 does not wait on a gap.
        assert [(m.event_id, m.state) for m in support.dossier("dossier:D2")] == [
            ("poison", "done")
        ]
        [answer] = answers_by_event(store)["poison"]
        assert issue_codes(answer) == ["unstorable"]

    def test_an_event_refused_even_bare_is_dead_lettered_with_its_reason(
        self, store: Store
    ) -> None:
        """Only what no store takes in any form leaves through the dead-letter queue."""
        refusing = RefusingStore(store, "poison", UnstorableData("DataError"))
        batch = deliveries(events.application("a", "D1", 1), events.application("poison", "D2", 1))
        ok, dead = self.handler(refusing)(batch)
        assert ok == Disposition.ACK
        assert dead.reason == "the store refused the event even as a bare refusal: UnstorableData"

    def test_a_bug_met_by_one_event_is_isolated_like_refused_data(self, store: Store) -> None:
        """An unforeseen exception while storing is confined to the event that causes it."""
        refusing = RefusingStore(store, "poison", KeyError("bug"), times=2)
        batch = deliveries(events.application("a", "D1", 1), events.application("poison", "D2", 1))
        assert self.handler(refusing)(batch) == [Disposition.ACK] * 2
        assert issue_codes(answers_by_event(store)["poison"][0]) == ["unstorable"]

    def test_a_store_that_is_down_keeps_the_batch_in_hand(self, store: Store) -> None:
        """A transient failure asks for the whole batch again and stores nothing of it."""
        refusing = RefusingStore(store, "a", StoreUnavailable("connection refused"), times=1)
        handler = self.handler(refusing)
        batch = deliveries(events.application("a", "D1", 1), events.application("b", "D2", 1))
        assert handler(batch) == [Disposition.RETRY] * 2
        assert Support(store).dossier("dossier:D2") == []
        assert handler(batch) == [Disposition.ACK] * 2
        assert len(Support(store).dossier("dossier:D2")) == 1
