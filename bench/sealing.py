"""The cost of sealing at rest: seal and open one stored payload, in this process.

A 2 KiB event (the insurance-status example, padded) and a reva-document with a 10 MiB PDF (the
contract's largest event, about 14 MiB of JSON) are sealed and opened with the store's own
``Sealer`` (AES-256-GCM, base64url text) ``--rounds`` times each; the script prints the
median and the 90th percentile of the wall time per operation, and the stored size against
the plain size. Nothing else runs: this is the CPU the store's edge adds per value.

    .venv/bin/python -m bench.sealing [--rounds 200]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable

from adapter.store.rows import PAYLOAD
from adapter.testing import memory_sealer
from bench.attachment import document_event
from tests.support import events


def small_event() -> str:
    """The insurance-status example (1.8 KB of JSON), padded to exactly 2 KiB."""
    document = events.example("01-insurance-status")
    document["bench_padding"] = ""
    document["bench_padding"] = "x" * (2048 - len(json.dumps(document)))
    text = json.dumps(document)
    assert len(text) == 2048
    return text


def timed(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median and 90th percentile of ``work``'s wall time, in milliseconds."""
    samples: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    sealer = memory_sealer()
    cases = (
        ("2 KiB event", small_event(), args.rounds),
        (
            "10 MiB attachment event",
            document_event(10, "D-BENCH").decode(),
            max(args.rounds // 10, 5),
        ),
    )
    heading = f"{'value':<26} {'plain':>10} {'stored':>10}"
    print(f"{heading}  {'seal p50/p90 ms':>17}  {'open p50/p90 ms':>17}")
    for label, plain, rounds in cases:
        sealed = sealer.seal(plain, PAYLOAD, "bench")
        assert sealer.open(sealed, PAYLOAD, "bench") == plain
        seal = timed(functools.partial(sealer.seal, plain, PAYLOAD, "bench"), rounds)
        opened = timed(functools.partial(sealer.open, sealed, PAYLOAD, "bench"), rounds)
        print(
            f"{label:<26} {len(plain):>10} {len(sealed):>10}"
            f"  {seal[0]:>8.3f}/{seal[1]:<8.3f}  {opened[0]:>8.3f}/{opened[1]:<8.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
