"""The INSERT of the connection's backend, for ``ON CONFLICT`` (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(db: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` that can take ``on_conflict_do_nothing`` / ``_do_update``.

    Both backends have the same clause (``ON CONFLICT``), so one statement serves a race
    between two writers with no error to catch (a failed statement aborts a PostgreSQL
    transaction, which a caught ``IntegrityError`` would not undo).
    """
    if db.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
