"""The shipped systemd units (systemd/) are valid and stay hardened."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ("vsb-adapter.service", "vsb-adapter-purge.service", "vsb-adapter-purge.timer")
INSTALLED = "/opt/vsb-adapter/venv/bin/vsb-adapter"
MAX_EXPOSURE = 1.2
"""``systemd-analyze security`` rates both services 1.1 today (docs/sysadmin.md)."""


@pytest.fixture(scope="module")
def analyze() -> str:
    """The systemd-analyze binary; CI must have it, a developer machine may not."""
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing on the CI machine")
        pytest.skip("systemd-analyze is not installed")
    return found


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units with ExecStart pointing at this checkout's command (verify needs it to exist)."""
    folder = tmp_path_factory.mktemp("units")
    command = str(Path(sys.executable).with_name("vsb-adapter"))
    for name in UNITS:
        text = (ROOT / "systemd" / name).read_text()
        (folder / name).write_text(text.replace(INSTALLED, command))
    return folder


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


class TestUnits:
    """systemd-analyze verify and security, offline, on every shipped unit."""

    def test_verify_finds_nothing(self, analyze: str, units: Path) -> None:
        """An unknown key or a bad value is only a warning to systemd: any output fails."""
        done = run(analyze, "verify", *(str(units / name) for name in UNITS))
        assert (done.returncode, done.stdout + done.stderr) == (0, "")

    @pytest.mark.parametrize("name", [n for n in UNITS if n.endswith(".service")])
    def test_exposure_stays_low(self, analyze: str, units: Path, name: str) -> None:
        """Dropping a hardening setting raises the exposure past the bound."""
        threshold = str(round(MAX_EXPOSURE * 10))  # systemd counts tenths
        done = run(
            analyze, "security", "--offline=true", f"--threshold={threshold}", str(units / name)
        )
        assert done.returncode == 0, done.stdout[-2000:]

    def test_a_dropped_setting_is_noticed(self, analyze: str, units: Path, tmp_path: Path) -> None:
        """The bound is tight: without its system-call filter the daemon's unit fails it."""
        text = (units / "vsb-adapter.service").read_text()
        loose = tmp_path / "vsb-adapter.service"
        loose.write_text(
            "\n".join(
                line
                for line in text.splitlines()
                if not line.startswith(("SystemCallFilter", "PrivateUsers", "PrivateMounts"))
            )
        )
        threshold = str(round(MAX_EXPOSURE * 10))
        done = run(analyze, "security", "--offline=true", f"--threshold={threshold}", str(loose))
        assert done.returncode != 0

    def test_the_daemon_notifies_and_is_watched(self) -> None:
        """Type=notify with a watchdog: what adapter/systemd.py implements."""
        text = (ROOT / "systemd" / "vsb-adapter.service").read_text()
        settings = dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"
        )
        assert settings["Type"] == "notify"
        assert settings["NotifyAccess"] == "main"
        assert int(settings["WatchdogSec"]) > 0
