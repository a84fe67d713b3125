"""Personal data at rest: after real traffic, the raw store holds no INSZ and no name.

The bundled examples go through the real daemon (RabbitMQ, the store, the simulator over
HTTPS); then the SQLite file is read as bytes (with its -wal and -shm files), and every
PostgreSQL row of every table with raw SQL, and none of the examples' INSZ numbers, names or
diagnoses is found in them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import FACILITY_NIHDI
from tests.support import events
from tests.support.events import EXAMPLE_NAMES, INVALID_EXAMPLE_NAMES
from tests.support.rig import Harness

Start = Callable[..., Harness]
_ELEVEN_DIGITS = re.compile(r'"(\d{11})"')


def personal_data(names: list[str]) -> set[str]:
    """INSZ/BIS numbers, people's names and diagnoses quoted in these examples."""
    found: set[str] = set()
    for name in names:
        text = events.example_path(name).read_text("utf-8")
        found |= {n for n in _ELEVEN_DIGITS.findall(text) if n != FACILITY_NIHDI}
        _texts(json.loads(text), None, found)
    return found


def _texts(value: object, key: str | None, found: set[str]) -> None:
    if isinstance(value, dict):
        if key == "name" and isinstance(value.get("text"), str):
            found.add(value["text"])  # a person's name (an organisation's is a plain string)
        for k, v in value.items():
            _texts(v, k, found)
    elif isinstance(value, list):
        for v in value:
            _texts(v, key, found)
    elif key == "text" and isinstance(value, str) and ";" in value:
        found.add(value)  # a diagnosis ("Acquired brain injury after a stroke; …")


def raw_sqlite(url: str) -> bytes:
    """The bytes of the SQLite file and of its -wal and -shm files, as on disk."""
    database = Path(str(make_url(url).database))
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def raw_postgres(url: str) -> bytes:
    """Every value of every row of every table of the test's schema, read with raw SQL."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            tables = db.exec_driver_sql(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            ).scalars()
            parts: list[str] = []
            for table in list(tables):
                for row in db.exec_driver_sql(f'SELECT * FROM "{table}"'):
                    parts.extend(str(value) for value in row)
    finally:
        engine.dispose()
    return "\n".join(parts).encode()


class TestNoPersonalDataAtRest:
    """Real traffic leaves no INSZ, name or diagnosis readable in the raw store."""

    def test_the_raw_store_holds_no_insz_nor_name(
        self, start_adapter: Start, store_url: str
    ) -> None:
        """All examples answered, then neither the SQLite bytes nor the PostgreSQL rows show one."""
        names = sorted(EXAMPLE_NAMES + INVALID_EXAMPLE_NAMES)
        secrets = personal_data(names)
        assert "85073003328" in secrets  # the search has targets
        assert "An Janssens" in secrets
        adapter = start_adapter(store_url)
        ids = adapter.send(*(json.dumps(events.example(name)).encode() for name in names))
        # Invoices are answered with their batch (38), whose final answer comes last.
        answered = [
            event_id
            for name, event_id in zip(names, ids, strict=True)
            if events.event_code(events.example(name)) != "invoice"
        ]
        adapter.answers(answered, final=False)
        adapter.daemon.stop()  # every write is in; SQLite leaves its WAL beside the file
        raw = raw_sqlite(store_url) if store_url.startswith("sqlite") else raw_postgres(store_url)
        assert b"vsb1:" in raw  # the payloads are there, sealed
        leaked = sorted(s for s in secrets if s.encode() in raw)
        assert leaked == []
