"""Ingest stores a whole batch of deliveries at once and refuses each bad event on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapter.engine.ingest import Ingest
from adapter.store import Store, Support
from adapter.testing import FixedClock
from mappings import Facility
from monitoring import Metrics
from queues import Delivery, Disposition
from tests.integration import events


def ingest(store: Store, *bodies: bytes) -> list[Disposition]:
    handler = Ingest(
        store,
        Facility("71012314001", "40012345"),
        FixedClock(datetime(2026, 11, 20, 9, tzinfo=UTC)),
        Metrics(),
    )
    return handler([Delivery(body=b, redelivered=False, message_id=None) for b in bodies])


def answers_by_event(store: Store) -> dict[str, dict[str, object]]:
    return {a.event_id: json.loads(a.body) for a in store.unpublished_answers(100)}


def test_a_mixed_batch_is_stored_and_acknowledged_whole(store: Store) -> None:
    """Valid, invalid and unreadable events of one batch are all stored and all acknowledged."""
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


def test_a_number_used_twice_in_one_batch_refuses_the_second(store: Store) -> None:
    """Two events with the same dossier number in one batch: the later one is refused."""
    ingest(store, events.application("first", "D1", 1), events.stop("second", "D1", 1))
    answer = answers_by_event(store)["second"]
    assert "sequence-taken" in json.dumps(answer)
    assert [m.event_id for m in Support(store).dossier("dossier:D1")] == ["first"]


def test_a_redelivered_batch_changes_nothing(store: Store) -> None:
    """The same batch again is acknowledged and stores nothing new."""
    batch = (events.application("a", "D1", 1), events.stop("b", "D1", 2))
    ingest(store, *batch)
    assert ingest(store, *batch) == [Disposition.ACK, Disposition.ACK]
    assert len(Support(store).dossier("dossier:D1")) == 2
