"""``vsb-adapter migration`` end to end: the sample export planned, sent, sent again, and a
send killed halfway and restarted — through RabbitMQ, the adapter daemon and the simulator.

The daemon and the command are child processes (as in production); the simulator's call
record tells what reached the central application, and how often.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapter.devpki import DevPki
from simulator import Simulator
from tests.support.processes import ROOT, AdapterProcess, adapter_environ
from tests.support.reva import insz

SAMPLE = ROOT / "docs" / "samples" / "migration-export.jsonl"
TODAY = date(2023, 10, 15)
"""Within 30 days of the sample's normal REVA application (2023-10-02)."""

EXPECTED = {
    "PVT-M-0001": ("migration-file", ["accepted"]),
    "PVT-M-0002": ("migration-file", ["accepted"]),
    "PVT-M-0003": ("migration-file-extension-follows", ["accepted", "accepted"]),
    "PVT-M-0004": ("late-request", ["accepted"]),
    "PVT-M-0005": ("new-request", ["accepted"]),
    "PVT-M-0006": ("nothing-to-migrate", []),
    "PVT-M-0007": ("awaiting-approval", []),
    "REVA-M-0001": ("migration-file", ["accepted"]),
    "REVA-M-0002": ("new-request", ["accepted"]),
}


class Migration:
    """The command, run as the sysadmin runs it, with the daemon's settings."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("VSB_")}
        return subprocess.run(
            [sys.executable, "-m", "adapter", "migration", *args],
            cwd=ROOT,
            env={**base, **self.environ, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def status(self, export: Path) -> dict[str, tuple[str, list[str]]]:
        result = self.run("status", str(export), "--json")
        rows = json.loads(result.stdout)["files"]
        return {row["dossier_id"]: (row["class"], row["outcomes"]) for row in rows}


@pytest.fixture
def migration(
    tmp_path: Path,
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
) -> Iterator[Migration]:
    """A daemon on its own store and broker names, the simulator on 2023-10-15."""
    simulator.set_today(TODAY)
    environ = adapter_environ(sqlite_url, broker_names, simulator.url, pki)
    adapter = AdapterProcess(environ, tmp_path / "adapter.log").start()
    try:
        yield Migration(environ)
    finally:
        adapter.terminate()


def submits(simulator: Simulator) -> Counter[str]:
    """Submit calls that reached the central application, per message id."""
    return Counter(str(call.message_id) for call in simulator.record())


class TestSampleExport:
    """The documented sample: every class, sent once however often ``send`` runs."""

    def test_plan_send_and_send_again(self, migration: Migration, simulator: Simulator) -> None:
        """Plan shows each class with its reason; send answers every file; again sends nothing."""
        plan = migration.run("plan", str(SAMPLE))
        assert plan.returncode == 0, plan.stdout + plan.stderr
        for dossier, (kind, _) in EXPECTED.items():
            assert any(dossier in line and kind in line for line in plan.stdout.splitlines())

        sent = migration.run("send", str(SAMPLE), "--wait", "90")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "published 8 events; 0 were with the adapter already" in sent.stdout
        assert migration.status(SAMPLE) == {k: (c, o) for k, (c, o) in EXPECTED.items()}
        first = submits(simulator)
        assert sum(first.values()) == 8
        assert set(first.values()) == {1}

        again = migration.run("send", str(SAMPLE), "--wait", "10")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "published 0 events; 8 were with the adapter already" in again.stdout
        assert submits(simulator) == first

    def test_a_contradicting_flag_is_refused_before_anything_is_sent(
        self, migration: Migration, simulator: Simulator, tmp_path: Path
    ) -> None:
        """A new request flagged as a migration file: plan names it; send sends nothing."""
        rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
        rows[4]["migration"] = "yes"  # PVT-M-0005, admitted 2023-04-03
        export = tmp_path / "export.jsonl"
        export.write_text("".join(json.dumps(row) + "\n" for row in rows))
        plan = migration.run("plan", str(export))
        assert plan.returncode == 1
        assert "line 5, migration: flagged as a migration file, but the admission starts on" in (
            plan.stdout
        )
        sent = migration.run("send", str(export))
        assert sent.returncode == 1
        assert "nothing sent" in sent.stderr
        assert submits(simulator) == Counter()


class TestRestart:
    """A send killed halfway (SIGKILL) and run again completes, nothing sent twice."""

    def test_killed_halfway(
        self, migration: Migration, simulator: Simulator, tmp_path: Path
    ) -> None:
        """The second run publishes the rest; every file is answered once."""
        export = tmp_path / "export.jsonl"
        export.write_text("".join(json.dumps(row) + "\n" for row in new_requests(40)))
        killed = migration.run("send", str(export), VSB_CRASH_POINT="migration-halfway")
        assert killed.returncode == -9, killed.stdout + killed.stderr
        resumed = migration.run("send", str(export), "--wait", "90")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        published = int(resumed.stdout.split("published ")[1].split()[0])
        assert 0 < published <= 20
        statuses = migration.status(export)
        assert statuses == {
            row["dossier_id"]: ("new-request", ["accepted"]) for row in new_requests(40)
        }
        calls = submits(simulator)
        assert sum(calls.values()) == 40
        assert set(calls.values()) == {1}


def new_requests(count: int) -> list[dict[str, Any]]:
    """PVT admissions after the switch-over (new requests), one person each."""
    return [
        {
            "sector": "pvt",
            "dossier_id": f"PVT-R-{n:04d}",
            "insz": insz(date(1960, 1, 1), n + 1),
            "start": "2023-10-02",
            "consent_date": "2023-10-02",
            "user_type": "psychiatric-patient",
            "dsm5": "F20.9",
        }
        for n in range(count)
    ]
