"""``vsb-adapter`` run in the test's process, its output captured by pytest's ``capsys``."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from adapter.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``vsb-adapter ARGV``: its exit code, stdout and stderr."""
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refuses bad usage so
        code = int(exc.code or 0)
    finally:
        # main() points the root logger at this call's captured stderr, closed after it.
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """What ``vsb-adapter ARGV --json`` prints, parsed. The exit code is not checked:
    ``status`` exits 1 when a check fails, and its figures still count."""
    _, out, _ = run_cli(capsys, *argv, "--json")
    return json.loads(out)
