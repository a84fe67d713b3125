"""Opening the SQL database: engine options per backend, migrations, the single-instance lock."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from adapter.errors import StoreLockedError, StoreUnavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
READ_ONLY = "vsb_read_only"
"""Execution option of transactions that only read (SQLite then takes no write lock)."""


def create_store_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the project's durability settings.

    SQLite runs in WAL mode with ``synchronous=FULL`` (an acked event survives a power cut)
    and takes its write lock at ``BEGIN`` (``BEGIN IMMEDIATE``), so two threads never deadlock
    upgrading a read lock; a new file is created readable by its owner only (0600), and SQLite
    gives its WAL and shared-memory files the same mode. PostgreSQL uses a connection pool of
    ``pool_size``. Statement parameters never appear in errors (``hide_parameters``): they
    hold the events' personal data.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            create_private_file(Path(parsed.database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            hide_parameters=True,
        )
        _sqlite_durability(engine)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True
    )


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable and writable by its owner only, if missing.

    The folder gets 0700 when this creates it. An existing file keeps its mode: the
    sysadmin may have chosen it (``vsb-adapter check`` warns about one others can read).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def exposed_store_file(url: str) -> str | None:
    """For a SQLite store others can read or write: what to tell the sysadmin; else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"store file {path} has mode {mode:04o}: it holds personal data;"
        f" make it the owner's alone (chmod 600 {path} {path}-wal {path}-shm)"
    )


def _sqlite_durability(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader in WAL mode needs no lock: a deferred BEGIN lets it run beside the writer.
        readonly = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; run at every start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Two instances starting together must not both run the same migration.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7261001)")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StoreUnavailable(
            f"cannot migrate the store: {exc.__class__.__name__}: {exc}"
        ) from exc


def schema_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None before the first migration."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return None if row is None else str(row[0])
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot read the store's schema revision: {exc}") from exc


class InstanceLock:
    """An exclusive lock beside a SQLite file: a second adapter on the same file is refused.

    Scale-out is PostgreSQL's job; two processes writing one SQLite file would each think
    the other's in-flight messages were orphans.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._path: Path | None = None
        self._handle: IO[str] | None = None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._path = Path(f"{parsed.database}.lock")

    def acquire(self) -> None:
        """Take the lock or raise ``StoreLockedError``; a no-op for PostgreSQL."""
        if self._path is None:
            return
        create_private_file(self._path)
        handle = open(self._path, "a+")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise StoreLockedError(
                f"another adapter instance is using {self._path.with_suffix('')};"
                " run one instance per SQLite file (use PostgreSQL to scale out)"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let go of the lock."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
