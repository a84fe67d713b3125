"""Sampling a process with py-spy (a dev tool: ``.venv/bin/pip install py-spy``) and
summarising where its CPU went: top functions by own samples and by inclusive samples.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;... count``); only
threads that run (or wait on the GIL) are sampled, so the shares are shares of CPU time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(
    pid: int, seconds: float, output: Path, rate: int = 100, *, gil: bool = False
) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` for ``seconds`` in the background (raw collapsed stacks).

    With ``gil`` only the thread holding the GIL is sampled: where the Python CPU goes.
    """
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "--threads",
            "--output",
            str(output),
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    line = match.group("line")
    return f"{match.group('function')} ({file}{':' + line if line else ''})"


def summarise(raw: Path, top: int = 15) -> str:
    """A text report: total samples, top functions by own and by inclusive samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f]
        if frames and frames[0].startswith("thread ("):
            # "thread (1234): sender_7" -> "sender_N"
            threads[re.sub(r"_\d+$", "_N", frames.pop(0).split(": ", 1)[-1])] += count
        frames = [_short(f) for f in frames]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for frame in reversed(frames):
            if any(pkg in frame for pkg in ("(adapter/", "(mappings/", "(queues/")):
                ours[frame] += count
                break
    if total == 0:
        return "no samples (was the process busy?)\n"
    lines = [f"{total} samples (running threads only)"]
    if threads:
        lines.append("\nby thread:")
        lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in threads.most_common()]
    lines.append("\ntop by own samples (where the CPU is spent):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("\ntop by inclusive samples:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top * 2)]
    lines.append("\ninnermost project frame of each sample (which of our lines cost the CPU):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours.most_common(top)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15), end="")
