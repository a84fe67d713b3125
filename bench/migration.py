"""``vsb-adapter migration plan`` and ``send`` of a large export: time, rate, peak memory.

Generates an export of ``--files`` files (10,000 by default) in the mix a psychiatric care
home's software vendor would meet at go-live (mostly migration files, some with an extension
to follow, late and new requests, files with nothing to migrate, REVA migration files), then
runs, as child processes, against a daemon on a fresh store and a simulator:

1. ``migration plan``: wall time and peak RSS of the command;
2. ``migration send --wait``: time until every event is published, time until every file is
   answered, events per second over the whole, peak RSS of the command;
3. ``migration send`` again: time to find that nothing is left to send.

    .venv/bin/python -m bench.migration [--files 10000] [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.bench import AdapterTarget
from bench.common import SimulatorProcess, broker_names, delete_broker_names, pki_in, say
from tests.support.processes import ROOT
from tests.support.reva import insz


def export_rows(count: int) -> list[dict[str, Any]]:
    """``count`` files: 60 % migration files, 10 % each extension-follows / late / new,
    5 % nothing to migrate, 5 % REVA migration files; one person each."""
    rows = []
    for n in range(count):
        born = date(1940, 1, 1) + timedelta(days=n // 900)
        person = insz(born, n % 900 + 1)
        share = n % 20
        base: dict[str, Any] = {"dossier_id": f"MIG-{n:06d}", "insz": person}
        pvt = {"sector": "pvt", "user_type": "psychiatric-patient", "dsm5": "F20.9"}
        approved = {
            "vi_receipt": "2022-05-20",
            "vi_approval": "2022-05-30",
            "vi_approved_start": "2022-06-01",
        }
        if share < 12:
            row = pvt | approved | {"start": "2022-06-01", "vi_approved_end": "2024-05-31"}
        elif share < 14:
            row = pvt | approved | {"start": "2022-06-01", "vi_approved_end": "2023-03-31"}
            row["extension_end"] = "2025-03-31"
        elif share < 16:
            row = pvt | {"start": "2023-01-10", "vi_receipt": "2023-10-01"}
            row["consent_date"] = "2023-10-01"
        elif share < 18:
            row = pvt | {"start": "2023-10-02", "consent_date": "2023-10-02"}
        elif share < 19:
            row = pvt | approved | {"start": "2022-06-01", "vi_approved_end": "2023-03-31"}
        else:
            row = {
                "sector": "reva",
                "start": "2023-06-01",
                "end": "2026-05-31",
                "vi_approval": "2023-06-20",
                "request_type": "diagnosis",
                "location": "Campus Gent",
                "referred_by": "General practitioner",
                "diagnosis": "Diagnostic assessment.",
                "contact_name": "An Janssens",
            }
        rows.append(base | row)
    return rows


def run_measured(
    command: list[str], env: dict[str, str], mark: str | None = None
) -> tuple[float, float | None, int, str]:
    """Wall seconds, seconds until a stdout line starting with ``mark``, peak RSS (KiB), stdout."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    marked, lines = None, []
    for line in process.stdout:
        lines.append(line)
        if mark is not None and marked is None and line.startswith(mark):
            marked = time.monotonic() - started
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{''.join(lines)}")
    return wall, marked, usage.ru_maxrss, "".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the three phases and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-migration-") as work:
        workdir = Path(work)
        pki = pki_in(workdir)
        export = workdir / "export.jsonl"
        rows = export_rows(args.files)
        export.write_text("".join(json.dumps(row) + "\n" for row in rows))
        say(f"export: {len(rows)} files, {export.stat().st_size / 1e6:.1f} MB")
        simulator = SimulatorProcess(pki, workdir / "simulator.log").start()
        simulator.post("today", {"date": "2023-10-15"})
        names = broker_names(f"mig{os.getpid()}")
        adapter = AdapterTarget(args.store, workdir, pki, simulator.url, args.concurrency)
        try:
            adapter.start(names)
            assert adapter.process is not None
            env = {k: v for k, v in os.environ.items() if not k.startswith("VSB_")}
            env |= adapter.process.environ
            cli = [sys.executable, "-m", "adapter", "migration"]
            wall, _, rss, out = run_measured([*cli, "plan", str(export), "--json"], env)
            counts = json.loads(out)["counts"]
            events = sum(len(f["events"]) for f in json.loads(out)["files"])
            say(f"plan: {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB; classes {counts}")
            command = [*cli, "send", str(export), "--wait", "3600"]
            wall, published, rss, out = run_measured(command, env, mark="published")
            say(
                f"send: {events} events published in {published or 0:.1f} s, every file answered"
                f" after {wall:.1f} s: {events / wall:.0f} events/s end to end;"
                f" peak RSS {rss / 1024:.0f} MiB"
            )
            say("send: " + out.strip().splitlines()[-1])
            wall, _, rss, out = run_measured([*cli, "send", str(export)], env)
            say(f"send again: {wall:.1f} s, peak RSS {rss / 1024:.0f} MiB: {out.strip()}")
        finally:
            adapter.stop()
            simulator.stop()
            delete_broker_names(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
