"""Poison among valid traffic, end to end: every valid event answered, every poison accounted for.

The daemon runs on real RabbitMQ, SQLite and PostgreSQL and the simulator; each poison kind
of the issue is published among valid events of many dossiers, in one burst, so that they
meet in the consumer's batches.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from mappings.body import MAX_STRING_CHARS
from queues.watcher import WatchedAnswer
from tests.support import events
from tests.support.rig import Harness, issue_codes, outcome, take_dead_letters


def with_dossier(body: bytes, dossier: str) -> bytes:
    document = json.loads(body)
    document["entry"][0]["resource"]["extension"][0]["valueString"] = dossier
    return json.dumps(document).encode()


def with_location(body: bytes, text: str) -> bytes:
    """The application with ``text`` as its location (a free text the VSB message carries)."""
    document = json.loads(body)
    claim = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Claim"
    )
    for item in claim["supportingInfo"]:
        if item["category"]["coding"][0]["code"] == "location":
            item["valueString"] = text
    return json.dumps(document).encode()


HOSTILE_XML = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x>&a;&a;&a;</x>'

READABLE_POISON: dict[str, tuple[bytes, str]] = {
    # event id: (body, the first issue code of its refusal)
    "p-surrogate": (
        with_dossier(events.application("p-surrogate", "P1", 1), "R\ud800"),
        "bad-character",
    ),
    "p-zero-width": (
        with_dossier(events.application("p-zero-width", "P2", 1), "R\u200b1"),
        "dossier-id",
    ),
    "p-bom": (with_dossier(events.application("p-bom", "P3", 1), "\ufeffR1"), "dossier-id"),
    "p-bidi": (with_dossier(events.application("p-bidi", "P4", 1), "R\u202e1"), "dossier-id"),
    "p-long": (
        with_location(events.application("p-long", "P5", 1), "a" * (MAX_STRING_CHARS + 1)),
        "string-too-long",
    ),
}
UNREADABLE_POISON = events.UNREADABLE_POISON


def publish_raw(adapter: Harness, bodies: list[bytes]) -> None:
    for n, body in enumerate(bodies):
        adapter.publisher.publish(
            adapter.settings.broker.events_exchange, "event", body, message_id=f"raw-{n}"
        )


def seen(
    adapter: Harness, wanted: Callable[[WatchedAnswer], bool], count: int
) -> list[WatchedAnswer]:
    """The answers watched so far that ``wanted`` picks, once there are ``count`` (20 s at most)."""
    deadline = time.monotonic() + 20
    while True:
        found = [a for a in adapter.watcher.seen if wanted(a)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        adapter.watcher.collect(["(none)"], 0.5)


class TestPoisonAmongValidTraffic:
    """One burst of valid events of many dossiers with every poison kind among them."""

    def test_every_valid_event_is_answered_and_every_poison_accounted_for(
        self, start_adapter: Any, store_url: str
    ) -> None:
        """Valid events answered; poison refused or dead-lettered with a reason; no reconnect."""
        adapter = start_adapter(store_url)
        valid: list[bytes] = []
        for n in range(15):
            valid += [events.application(f"v{n}-1", f"V{n}", 1), events.stop(f"v{n}-2", f"V{n}", 2)]
            valid.append(events.lookup(f"v{n}-3", f"V{n}", 3))
        hostile = with_location(events.application("v-xml", "VX", 1), HOSTILE_XML)
        conflict = events.application("v0-1", "OTHER", 1)  # the id of a valid event
        limit = adapter.settings.broker.max_event_bytes
        oversized = b'{"id": "p-big", "x": "' + b"a" * limit + b'"}'
        poison = [body for body, _code in READABLE_POISON.values()]
        poison += [*UNREADABLE_POISON.values(), oversized]
        # Interleaved, the conflict after the event whose id it reuses.
        pairs = itertools.zip_longest(valid, poison)
        burst = [body for pair in pairs for body in pair if body is not None]
        publish_raw(adapter, [*burst, hostile, conflict])

        valid_ids = [json.loads(b)["id"] for b in [*valid, hostile]]
        answers = adapter.answers(valid_ids + list(READABLE_POISON), timeout=90)
        for event_id in valid_ids:
            outcomes = [outcome(a) for a in answers[event_id]]
            assert outcomes[0] == "accepted", (event_id, outcomes)
        for event_id, (_body, code) in READABLE_POISON.items():
            [refusal] = answers[event_id]
            assert outcome(refusal) == "invalid"
            assert code in issue_codes(refusal), event_id

        # The conflict: a second answer for v0-1, a refusal naming the reused id.
        conflicts = seen(adapter, lambda a: a.event_id == "v0-1" and ".invalid" in a.routing_key, 1)
        assert [issue_codes(json.loads(a.body)) for a in conflicts] == [{"event-id-conflict"}]

        # Bodies without a readable event id are answered under their digest.
        unreadable = seen(
            adapter, lambda a: str(a.event_id).startswith("unreadable-"), len(UNREADABLE_POISON)
        )
        codes = Counter(min(issue_codes(json.loads(a.body))) for a in unreadable)
        assert codes == Counter({"not-json": 4, "not-object": 1, "too-deep": 1, "number": 1})

        [(_body, headers)] = take_dead_letters(adapter.settings.broker.dead_letter_queue, 1)
        assert headers["x-vsb-reason"].startswith("oversized: ")

        metrics = adapter.daemon.metrics
        assert metrics.broker_reconnects.labels("consumer")._value.get() == 0
        assert metrics.store_failures.labels("ingest", "transient")._value.get() == 0
        assert adapter.daemon.health()["status"] == "ok"
