"""SIGHUP reloads the keystore of a running adapter process: a renewed certificate is used
without a restart, a broken keystore leaves the old key in use, and the process lives on."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from adapter.devpki import DevPki
from tests.engine.test_keyfiles import keystore
from tests.support.processes import AdapterProcess, adapter_environ
from tests.support.rig import wait_for


def test_sighup_reloads_the_keystore_without_a_restart(
    pki: DevPki, tmp_path: Path, sqlite_url: str, broker_names: dict[str, str]
) -> None:
    """Renewed: the log names the new serial; garbage: the reason, and the old key stays."""
    store = Path(shutil.copy(pki.keystore, tmp_path / "facility.p12"))
    store.chmod(0o600)
    environ = adapter_environ(sqlite_url, broker_names, "https://127.0.0.1:9/soap", pki)
    environ["VSB_SIGNING__KEYSTORE"] = str(store)
    adapter = AdapterProcess(environ, tmp_path / "adapter.log").start()
    try:
        assert wait_for(lambda: "started" in adapter.log_text(), 30), adapter.log_text()
        keystore(pki, store, "NIHDI=71012314001 renewed", days=40)
        os.kill(adapter.pid, signal.SIGHUP)
        assert wait_for(lambda: "renewed,OU=eHealth-platform Belgium" in adapter.log_text())
        store.write_bytes(b"not a keystore")
        os.kill(adapter.pid, signal.SIGHUP)
        assert wait_for(lambda: "keystore reload failed" in adapter.log_text())
        assert "still signing with the previous key: cannot open keystore" in adapter.log_text()
        assert adapter.alive()
    finally:
        assert adapter.terminate() == 0
