"""The systemd notify protocol of a real daemon process: ready, watchdog, stopping, a hang."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import events
from tests.support.rig import FaultRig

Rig = Callable[..., FaultRig]


class NotifySocket:
    """The datagram socket systemd would listen on, recording what the daemon says."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(0.2)
        self.received: list[tuple[float, str]] = []

    def collect(self, seconds: float) -> None:
        """Record what arrives during ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            self.received.append((time.monotonic(), data.decode()))

    def wait_for(self, text: str, seconds: float) -> bool:
        """Whether a notification containing ``text`` arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in message for _, message in self.received):
                return True
            self.collect(0.2)
        return False

    def pings_after(self, moment: float) -> int:
        return sum(1 for at, text in self.received if at > moment and "WATCHDOG=1" in text)

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    found = NotifySocket(tmp_path / "notify.sock")
    yield found
    found.close()


def watched(notify: NotifySocket) -> dict[str, str]:
    # A 2 s watchdog: pings every second while all loops turn.
    return {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000"}


class TestNotify:
    """What systemd hears from the daemon it started with Type=notify and WatchdogSec."""

    def test_ready_only_once_consuming_then_pings_then_stopping(
        self, fault_rig: Rig, notify: NotifySocket
    ) -> None:
        """READY=1 comes after the consumer is on the queue; pings follow; SIGTERM says STOPPING."""
        rig = fault_rig()
        rig.adapter.start(**watched(notify))
        assert notify.wait_for("READY=1", 30), rig.adapter.log_text()[-2000:]
        assert "consuming " in rig.adapter.log_text(), "ready before the consumer consumed"
        ready = next(at for at, text in notify.received if "READY=1" in text)
        notify.collect(3)
        assert notify.pings_after(ready) >= 2
        [event_id] = rig.send(events.lookup("wd-ok", "WD-OK", 1))
        assert rig.final_answers([event_id], timeout=20)[event_id]
        assert rig.adapter.terminate() == 0
        notify.collect(0.5)
        assert any("STOPPING=1" in text for _, text in notify.received)

    def test_a_hung_dispatcher_starves_the_watchdog(
        self, fault_rig: Rig, notify: NotifySocket
    ) -> None:
        """Once the dispatcher hangs, the pings stop and the log names the hung loop."""
        rig = fault_rig()
        rig.adapter.start(VSB_CRASH_POINT="dispatcher-hang", **watched(notify))
        assert notify.wait_for("READY=1", 30)
        notify.collect(2)
        rig.send(events.lookup("wd-hang", "WD-HANG", 1))
        deadline = time.monotonic() + 10
        while "hang point dispatcher-hang reached" not in rig.adapter.log_text():
            assert time.monotonic() < deadline, "the dispatcher never claimed the event"
            time.sleep(0.1)
        hung = time.monotonic()
        # The dispatcher promised a turn within 5 polls + 30 s, plus 5 s of grace.
        notify.collect(45)
        starved_from = hung + 40
        assert notify.pings_after(starved_from) == 0, "pings went on with a hung dispatcher"
        assert "not feeding the systemd watchdog: loop(s) hung: dispatcher" in (
            rig.adapter.log_text()
        )
        assert rig.adapter.alive(), "systemd, not the daemon, ends a hung process"
