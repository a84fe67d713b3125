"""``vsb-adapter check``: one line per item, no traceback, and OK on the demo's own defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapter.cli import main
from adapter.devpki import DevPki
from adapter.store import create_store_engine, migrate
from adapter.store.sealing import add_key
from simulator import Simulator
from tests.support.processes import RABBITMQ_URL

STATUSES = ("OK  ", "WARN", "FAIL")


@pytest.fixture
def demo_defaults(
    pki: DevPki, simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's settings: a development PKI as keystore (no passphrase configured), the
    simulator over HTTPS signed by it, a migrated store with its keyring."""
    for name in [n for n in os.environ if n.startswith("VSB_")]:
        monkeypatch.delenv(name)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate(create_store_engine(store_url, 1))
    add_key(str(tmp_path / "keyring"))
    monkeypatch.setenv("VSB_SIGNING__KEYSTORE", str(pki.keystore))
    monkeypatch.setenv("VSB_STORE__URL", store_url)
    monkeypatch.setenv("VSB_STORE__KEY_FILE", str(tmp_path / "keyring"))
    monkeypatch.setenv("VSB_CENTRAL__URL", simulator.url)
    monkeypatch.setenv("VSB_BROKER__URL", RABBITMQ_URL)


class TestCheck:
    """What an operator reads from ``check``."""

    def test_the_demo_defaults_pass(
        self, demo_defaults: None, pki: DevPki, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With the development PKI found, every item is OK; only its use is a warning."""
        code = main(["check"])
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert code == 0, out
        assert all(line.startswith(STATUSES) for line in lines), lines
        assert [line for line in lines if line.startswith("WARN")] == [
            f"WARN signing with the development PKI in {pki.keystore.parent} (the demo's)"
        ]
        assert any("days left" in line and line.startswith("OK") for line in lines)
        assert err == ""

    def test_a_broker_away_is_one_line_without_traceback(
        self,
        demo_defaults: None,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """pika's own log lines (a traceback among them) never reach the operator."""
        monkeypatch.setenv("VSB_BROKER__URL", "amqp://guest:guest@127.0.0.1:9/")
        code = main(["check"])
        out, err = capsys.readouterr()
        assert code == 1
        failed = [line for line in out.splitlines() if line.startswith("FAIL")]
        assert len(failed) == 1, out
        assert "cannot connect to RabbitMQ" in failed[0]
        assert "Traceback" not in out + err
        assert "pika" not in err
        assert all(line.startswith(STATUSES) for line in out.splitlines())


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(0, "OK  "), (30, "OK  "), (31, "WARN"), (-31, "WARN"), (300, "WARN"), (301, "FAIL")],
)
def test_clock_skew_bounds(seconds: int, status: str) -> None:
    """Skew against the central application: OK to 30 s, WARN to 5 minutes, FAIL beyond."""
    from datetime import timedelta

    from adapter.cli import _clock_skew

    found, text = _clock_skew(timedelta(seconds=seconds))
    assert f"{found:<4}" == status, text
    assert f"{abs(seconds)} s" in text


def test_the_demo_shows_its_clock_against_the_central_application(
    demo_defaults: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulator's HTTP Date gives the skew: on one machine, none."""
    main(["check"])
    [line] = [row for row in capsys.readouterr().out.splitlines() if "clock:" in row]
    assert line.startswith("OK   clock: ")
