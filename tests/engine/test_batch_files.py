"""Invoice batch files a crash left behind are deleted once no Submit can be reading them."""

from __future__ import annotations

import os
from pathlib import Path

from adapter.batch_file import remove_stale


class TestRemoveStale:
    """The sweep deletes old batch files only, and only batch files."""

    def test_old_batch_files_go_young_ones_and_others_stay(self, tmp_path: Path) -> None:
        """240 s is the bound: a file of 241 s goes, one of 239 s and a foreign file stay."""
        now = 1_000_000.0
        old, young, other = (tmp_path / n for n in ("batch-a.xml", "batch-b.xml", "notes.xml"))
        for path, age in ((old, 241), (young, 239), (other, 10_000)):
            path.write_bytes(b"<x/>")
            os.utime(path, (now - age, now - age))
        assert remove_stale(tmp_path, 240, now) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["batch-b.xml", "notes.xml"]

    def test_a_missing_folder_is_nothing_to_sweep(self, tmp_path: Path) -> None:
        """Before the first batch the folder does not exist."""
        assert remove_stale(tmp_path / "absent", 240, 0.0) == 0
