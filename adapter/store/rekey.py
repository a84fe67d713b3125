"""Rotation of the store's keys: which keys the rows are under, and re-sealing them.

``rekey`` moves every event payload and answer body that is not sealed under the current key
(plain rows written before sealing existed, rows under an older key) to the current key, in
short transactions, so it runs beside the daemon: each row is replaced only if it still
holds the value read (a compare-and-set), and an interrupted run simply starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, func, select, update

from adapter.store.rows import BODY, PAYLOAD
from adapter.store.sealing import PREFIX
from adapter.store.store import Store
from adapter.store.tables import ANSWERS, EVENTS

_SEALED: tuple[tuple[Table, str, str, str], ...] = (
    (EVENTS, "event_id", "payload", PAYLOAD),
    (ANSWERS, "answer_id", "body", BODY),
)
"""Each sealed column: its table, the row's id column, the column, its associated data."""
BATCH_ROWS = 200
"""Rows re-sealed per transaction at most."""
BATCH_BYTES = 16 * 1024 * 1024
"""Stored text re-sealed per transaction at most: a few large attachments end a batch
early, so the store's write lock (SQLite) is never held for long."""


@dataclass
class KeyUsage:
    """How many rows of each sealed column are under each key."""

    by_key: dict[str, int] = field(default_factory=dict)
    """Rows per key id of the keyring (0 when none)."""
    plain: int = 0
    """Rows written before sealing (clear text)."""
    unknown: int = 0
    """Rows sealed under a key id the keyring does not hold: they cannot be opened."""


def key_usage(store: Store) -> KeyUsage:
    """Rows per key of the keyring, plain rows, rows under keys it lacks (counts only)."""
    usage = KeyUsage()
    key_ids = [key.key_id for key in store.sealer.keyring.keys]
    with store.connection(read_only=True) as db:
        for table, _, column_name, _ in _SEALED:
            column: Column[str] = table.c[column_name]
            total = int(db.scalar(select(func.count()).select_from(table)) or 0)
            plain = int(
                db.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(~column.startswith(PREFIX, autoescape=True))
                )
                or 0
            )
            known = 0
            for key_id in key_ids:
                n = int(
                    db.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(column.startswith(f"{PREFIX}{key_id}:", autoescape=True))
                    )
                    or 0
                )
                usage.by_key[key_id] = usage.by_key.get(key_id, 0) + n
                known += n
            usage.plain += plain
            usage.unknown += total - plain - known
    return usage


def rekey(
    store: Store,
    *,
    batch_rows: int = BATCH_ROWS,
    batch_bytes: int = BATCH_BYTES,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-seal every row not under the current key; returns how many rows were re-sealed.

    A row that does not open (a key the keyring lacks, an altered value) raises
    ``SealError`` naming it, after the batches before it were committed.
    """
    sealer = store.sealer
    current = f"{PREFIX}{sealer.keyring.current.key_id}:"
    done = 0
    for table, id_name, column_name, associated in _SEALED:
        ids: Column[str] = table.c[id_name]
        column: Column[str] = table.c[column_name]
        after = ""
        while True:
            # Ids and sizes first, then the values of as many rows as fit in batch_bytes, in
            # one read: never a query per row, never 200 attachments of 14 MB in memory.
            with store.connection(read_only=True) as db:
                sizes = db.execute(
                    select(ids, func.length(column))
                    .where(ids > after, ~column.startswith(current, autoescape=True))
                    .order_by(ids)
                    .limit(batch_rows)
                ).all()
                chosen = _within(sizes, batch_bytes)
                values = db.execute(select(ids, column).where(ids.in_(chosen))).all()
            if not chosen:
                break
            after = chosen[-1]
            with store.connection() as db:
                for row_id, stored in values:
                    if stored.startswith(current):
                        continue  # re-sealed by someone else meanwhile
                    plain = sealer.open(stored, associated, row_id)
                    fresh = sealer.seal(plain, associated, row_id)
                    result = db.execute(
                        update(table)
                        .where(ids == row_id, column == stored)
                        .values({column_name: fresh})
                    )
                    done += int(result.rowcount)
            if progress is not None:
                progress(done)
    return done


def _within(sizes: Sequence[tuple[Any, ...]], batch_bytes: int) -> list[str]:
    """The leading ids whose values add up to ``batch_bytes`` (at least one id)."""
    chosen: list[str] = []
    total = 0
    for row_id, length in sizes:
        size = length or 0
        if chosen and total + size > batch_bytes:
            break
        chosen.append(row_id)
        total += size
    return chosen
