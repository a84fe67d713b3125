"""Cost of the store figures the gauge loop reads every 2 seconds, deadlines included.

A store filled straight through SQL (not through the daemon: the figures are what is
measured, not ingest): ``--done`` answered messages, and ``--waiting`` messages still on
their way to the central application, spread over dossiers with an accepted application
each; a third of the waiting messages carry the 30-day rule, a third the 5-day window, a
third no deadline. Then ``Store.stats`` and ``Store.deadlines`` are timed (median and
maximum of ``--rounds`` calls each) and their figures printed.

    .venv/bin/python -m bench.deadlines [--store sqlite|postgres] [--done 200000] [--waiting 20000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapter.store import Store, create_store_engine, migrate
from adapter.store.tables import APPLICATIONS, MESSAGES, ORDERINGS
from adapter.testing import memory_sealer
from bench.common import StoreUnderTest, say
from mappings.deadline import Days, DeadlineRule, local_day

DOSSIERS_PER_BATCH = 5_000


def fill(store: Store, done: int, waiting: int, today: date) -> None:
    """``done`` answered messages and ``waiting`` ones on their way, in dossiers of ten."""
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    dossiers: dict[str, int] = {}
    for n in range(done + waiting):
        key = f"dossier:b{n // 10}"
        sequence = dossiers[key] = dossiers.get(key, 0) + 1
        on_the_way = n >= done
        kind = n % 3
        rows.append(
            {
                "message_id": str(uuid.uuid4()),
                "event_id": f"e{n}",
                "event_code": "reva-data-change",
                "ordering_key": key,
                "sequence": sequence,
                "ordered": True,
                "state": "pending" if on_the_way else "done",
                "outcome": None if on_the_way else "accepted",
                "attempts": 0 if on_the_way else 1,
                "created_at": now,
                "updated_at": now,
                "next_attempt_at": now,
                "fence": 0,
                "deadline_rule": (DeadlineRule.APPLICATION, DeadlineRule.LATE_CHANGE, None)[kind],
                "due_on": today + timedelta(days=n % 40 - 10) if kind == 0 else None,
                "period_effect": None,
                "period_date": None,
            }
        )
    applications = [
        {
            "dossier_key": key,
            "outcome": "accepted",
            "vsb_reference": f"VSB-{i}",
            "issues": None,
            "closed": False,
            "period_ends_on": today + timedelta(days=i % 30 - 10),
            "stopped_on": None,
            "updated_at": now,
        }
        for i, key in enumerate(dossiers)
    ]
    orderings = [{"key": key, "next_sequence": 1, "updated_at": now} for key in dossiers]
    with store.connection() as db:
        for table, values in (
            (MESSAGES, rows),
            (APPLICATIONS, applications),
            (ORDERINGS, orderings),
        ):
            for start in range(0, len(values), DOSSIERS_PER_BATCH):
                db.execute(table.insert(), values[start : start + DOSSIERS_PER_BATCH])


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float, object]:
    """Median and maximum milliseconds of ``rounds`` calls, and the last result."""
    times: list[float] = []
    result: object = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--done", type=int, default=200_000)
    parser.add_argument("--waiting", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        under_test = StoreUnderTest(args.store, Path(workdir), uuid.uuid4().hex[:8])
        engine = create_store_engine(under_test.url)
        try:
            migrate(engine)
            store = Store(engine, sealer=memory_sealer())
            today = local_day(datetime.now(UTC))
            started = time.perf_counter()
            fill(store, args.done, args.waiting, today)
            say(f"filled {args.done:,} done + {args.waiting:,} waiting messages"
                f" in {time.perf_counter() - started:.1f} s ({args.store})")  # fmt: skip
            stats = timed(
                lambda: store.stats(datetime.now(UTC), timedelta(minutes=15)), args.rounds
            )
            deadlines = timed(lambda: store.deadlines(Days(today, 7)), args.rounds)
            print(f"Store.stats:     median {stats[0]:.1f} ms, max {stats[1]:.1f} ms")
            print(f"Store.deadlines: median {deadlines[0]:.1f} ms, max {deadlines[1]:.1f} ms")
            print(f"deadline figures: {deadlines[2]}")
        finally:
            engine.dispose()
            under_test.drop()


if __name__ == "__main__":
    main()
