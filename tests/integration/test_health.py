"""Health that tells the truth: a full disk and a store that is not up yet show as down.

The full disk is real: a small tmpfs mounted for the test (root only; the project's machines
and CI run as root). The store that is not up is PostgreSQL behind a TCP proxy that refuses.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapter.daemon import Daemon
from adapter.devpki import DevPki
from adapter.store import exposed_store_file
from simulator import Simulator
from tests.conftest import POSTGRES_URL
from tests.integration.conftest import make_settings
from tests.support import events
from tests.support.proxy import FaultProxy
from tests.support.rig import Harness, outcome, wait_for


def health(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    """/health over HTTP: the status code and the report."""
    url = f"http://127.0.0.1:{daemon.health_server.port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of the test's own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    return filler


class TestFullDisk:
    """A store whose disk is full answers reads, fails writes, and shows down."""

    def test_readiness_fails_while_writes_fail_and_nothing_is_lost(
        self, start_adapter: Callable[..., Harness], small_disk: Path
    ) -> None:
        """Events wait unacknowledged while the disk is full, then are answered once it is not."""
        adapter = start_adapter(f"sqlite:///{small_disk / 'store.db'}")
        assert health(adapter.daemon)[1]["checks"]["store"] == "ok"
        filler = fill(small_disk)
        ids = adapter.send(*[events.application(f"full-{n}", f"F{n}", 1) for n in range(20)])
        assert wait_for(lambda: health(adapter.daemon)[0] == 503, 30), health(adapter.daemon)
        _code, report = health(adapter.daemon)
        assert report["status"] == "down"
        assert report["checks"]["store"] == "error: writes fail (OperationalError)"
        filler.unlink()
        answers = adapter.answers(ids, timeout=60)
        assert all(outcome(found[0]) == "accepted" for found in answers.values())
        assert wait_for(lambda: health(adapter.daemon)[0] == 200, 30)
        transient = adapter.daemon.metrics.store_failures.labels("ingest", "transient")
        assert transient._value.get() > 0


class TestStartWithoutTheStore:
    """A daemon started while PostgreSQL refuses connections waits for it, not ready."""

    def test_it_waits_not_ready_then_migrates_and_serves(
        self,
        pki: DevPki,
        broker_names: dict[str, str],
        simulator: Simulator,
        postgres_url: str,
    ) -> None:
        """/health says down and why; once PostgreSQL answers, the daemon starts and answers."""
        host_part = POSTGRES_URL.split("@", 1)[1].split("/", 1)[0]
        pg_host, pg_port = host_part.split(":")
        with FaultProxy(pg_host, int(pg_port)) as proxy:
            proxy.refuse(True)
            proxied = postgres_url.replace(host_part, f"127.0.0.1:{proxy.port}")
            daemon = Daemon(make_settings(proxied, broker_names, simulator, pki))
            starter = threading.Thread(target=daemon.start, daemon=True)
            starter.start()
            try:
                assert wait_for(lambda: daemon.health_server.port > 0 and _reachable(daemon))
                assert wait_for(lambda: "waiting for the store" in str(health(daemon)[1]))
                code, report = health(daemon)
                assert (code, report["status"]) == (503, "down")
                assert (
                    report["checks"]["store"]
                    == "starting: waiting for the store (OperationalError)"
                )
                assert starter.is_alive(), "it waits; it does not exit"
                proxy.refuse(False)
                starter.join(60)
                assert not starter.is_alive()
                assert wait_for(lambda: health(daemon)[1]["checks"]["store"] == "ok", 30)
            finally:
                daemon.stop()


def _reachable(daemon: Daemon) -> bool:
    try:
        health(daemon)
    except OSError:
        return False
    return True


class TestPrivateFiles:
    """The SQLite store holds personal data: its files are the owner's alone."""

    def test_the_store_and_its_wal_are_created_0600(
        self, start_adapter: Callable[..., Harness], tmp_path: Path
    ) -> None:
        """Database, WAL, shared memory and lock file: mode 0600; a new folder 0700."""
        folder = tmp_path / "private"
        database = folder / "store.db"
        adapter = start_adapter(f"sqlite:///{database}")
        adapter.answers(adapter.send(events.application("mode-1", "M1", 1)))
        modes = {path.name: stat.S_IMODE(os.stat(path).st_mode) for path in folder.iterdir()}
        assert set(modes) >= {"store.db", "store.db-wal", "store.db-shm", "store.db.lock"}
        assert set(modes.values()) == {0o600}, modes
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700

    def test_check_warns_about_a_store_others_can_read(self, tmp_path: Path) -> None:
        """A store file of an older release (0644) is named with the command that fixes it."""
        database = tmp_path / "old.db"
        database.write_bytes(b"")
        database.chmod(0o644)
        warning = exposed_store_file(f"sqlite:///{database}")
        assert warning is not None
        assert "mode 0644" in warning
        assert f"chmod 600 {database}" in warning
        database.chmod(0o600)
        assert exposed_store_file(f"sqlite:///{database}") is None
