"""Reading an export: both formats alike, and every bad row named while the others are read."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from adapter.migration.export import COLUMNS, MAX_LINE_BYTES, RowError, Sector, read_export

SAMPLES = Path(__file__).parents[2] / "docs" / "samples"
VALID = {
    "sector": "pvt",
    "dossier_id": "PVT-T-0001",
    "insz": "48031203156",
    "start": "2022-06-01",
    "user_type": "psychiatric-patient",
    "dsm5": "F20.9",
}


def jsonl(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def row(**changes: object) -> bytes:
    return json.dumps(VALID | changes).encode()


class TestSamples:
    """The documented samples read without a problem, and alike in both formats."""

    def test_jsonl_and_csv_give_the_same_files(self) -> None:
        """Every column of the sample means the same in JSON lines and in CSV."""
        from_jsonl = read_export(SAMPLES / "migration-export.jsonl")
        from_csv = read_export(SAMPLES / "migration-export.csv")
        assert from_jsonl.errors == []
        assert from_csv.errors == []
        assert len(from_jsonl.files) == 9
        # The CSV has a header line, so its rows sit one line lower.
        assert [f.line for f in from_csv.files] == [f.line + 1 for f in from_jsonl.files]
        shifted = [f.__class__(**{**vars(f), "line": f.line + 1}) for f in from_jsonl.files]
        assert from_csv.files == shifted

    def test_values_are_typed(self) -> None:
        """Dates are dates, the sector an enum, the flag a bool."""
        first, *_, third = read_export(SAMPLES / "migration-export.jsonl").files[:3]
        assert first.sector is Sector.PVT
        assert first.vi_approved_end == date(2024, 5, 31)
        assert third.migration is True
        assert third.extension_end == date(2025, 3, 31)


class TestPoison:
    """Each hostile row is one RowError naming its line (and column), beside valid rows."""

    @pytest.mark.parametrize(
        ("line", "column", "problem"),
        [
            (b'{"sector": "pvt", "insz": "48031203156"' + b"]" * 3, None, "not one JSON object"),
            (b"[" * 100_000 + b"]" * 100_000, None, "longer than"),
            (b"[" * 20_000 + b"]" * 20_000, None, "not one JSON object"),
            (row(insz="9" * 5000), "insz", "longer than 2000"),
            (b'{"sector": "pvt", "start": 1' + b"0" * 4400 + b"}", None, "not one JSON object"),
            (row(dossier_id="PVT\u0000-1"), "dossier_id", "control character"),
            (b'{"dossier_id": "\xff\xfe"}', None, "not UTF-8"),
            (row(dossier_id="\ud800"), "dossier_id", "control character"),
            (row(start="2023-02-30"), "start", "date YYYY-MM-DD"),
            (row(start="2023-2-3"), "start", "date YYYY-MM-DD"),
            (row(start=20230201), "start", "must be a string"),
            (row(insz="48031203157"), "insz", "check digits"),
            (row(sector="vapha"), "sector", "pvt or reva"),
            (row(dsm5="schizophrenia"), "dsm5", "DSM-5"),
            (row(user_type="resident"), "user_type", "one of"),
            (row(migration="maybe"), "migration", "yes or no"),
            (row(location="x" * 2001), "location", "longer than 2000"),
            (row(dsm5=None), "dsm5", "required for PVT"),
            (b"[1, 2]", None, "not one JSON object"),
        ],
        ids=[
            "broken-json", "huge-line", "deep-nesting", "long-insz", "huge-number", "nul",
            "bad-utf8", "lone-surrogate", "impossible-date", "short-date", "number-date",
            "insz-check", "sector", "dsm5", "user-type", "flag", "long-text", "missing",
            "not-an-object",
        ],
    )  # fmt: skip
    def test_one_bad_row_among_valid_ones(
        self, tmp_path: Path, line: bytes, column: str | None, problem: str
    ) -> None:
        """The bad row is named by line and column; its neighbours are read."""
        path = jsonl(tmp_path, row(dossier_id="A-1"), line, row(dossier_id="A-3"))
        reading = read_export(path)
        assert [f.dossier_id for f in reading.files] == ["A-1", "A-3"]
        assert len(reading.errors) == 1
        (error,) = reading.errors
        assert (error.line, error.column) == (2, column)
        assert problem in error.problem

    def test_problems_never_repeat_the_value(self, tmp_path: Path) -> None:
        """An operator's report never shows an INSZ or a diagnosis code."""
        path = jsonl(tmp_path, row(insz="48031203157", dsm5="secret-diagnosis"))
        text = " ".join(str(e) for e in read_export(path).errors)
        assert "48031203157" not in text
        assert "secret-diagnosis" not in text

    def test_lines_over_the_limit_are_refused_unread(self, tmp_path: Path) -> None:
        """A row longer than MAX_LINE_BYTES is refused before it is parsed."""
        path = jsonl(tmp_path, row(location="x" * MAX_LINE_BYTES), row(dossier_id="B-2"))
        reading = read_export(path)
        assert [f.dossier_id for f in reading.files] == ["B-2"]
        assert reading.errors == [RowError(1, None, f"longer than {MAX_LINE_BYTES} bytes")]


class TestCsv:
    """CSV: a header row, quoted cells, and the same per-row refusals."""

    def write(self, tmp_path: Path, rows: list[list[str]], raw: bytes = b"") -> Path:
        path = tmp_path / "export.csv"
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            for cells in rows:
                writer.writerow(cells)
        with path.open("ab") as stream:
            stream.write(raw)
        return path

    def test_quoted_cells_with_commas_and_line_breaks(self, tmp_path: Path) -> None:
        """A quoted cell may hold a comma or a line break; line numbers stay physical."""
        header = [*VALID, "location"]
        path = self.write(
            tmp_path,
            [header, [*VALID.values(), "Campus A, wing 2"], [*VALID.values(), "two\nlines"]],
        )
        reading = read_export(path)
        assert reading.errors == []
        assert [f.location for f in reading.files] == ["Campus A, wing 2", "two\nlines"]
        assert [f.line for f in reading.files] == [2, 3]

    def test_semicolons_as_a_belgian_spreadsheet_writes_them(self, tmp_path: Path) -> None:
        """A header with more semicolons than commas makes ";" the delimiter."""
        path = tmp_path / "export.csv"
        cells = [*VALID.values(), "Campus A, wing 2"]
        path.write_text(";".join([*VALID, "location"]) + "\n" + ";".join(cells) + "\n")
        reading = read_export(path)
        assert reading.errors == []
        assert [f.location for f in reading.files] == ["Campus A, wing 2"]

    def test_bad_rows(self, tmp_path: Path) -> None:
        """Wrong cell count, bad bytes and unknown columns are named; good rows are read."""
        header = [*VALID, "favourite_colour"]
        path = self.write(
            tmp_path,
            [header, [*VALID.values(), "blue"], ["pvt", "X-2"]],
            raw=b"pvt,\xff\xfe,48031203156,2022-06-01,psychiatric-patient,F20.9,red\n"
            + ",".join([*VALID.values(), "green"]).encode()
            + b"\n",
        )
        reading = read_export(path)
        assert len(reading.files) == 2
        problems = {(e.line, e.problem.split(":")[0]) for e in reading.errors}
        assert problems == {
            (1, "unknown columns"),
            (3, "2 cells for 7 columns"),
            (4, "not UTF-8"),
        }


def test_every_column_is_documented() -> None:
    """docs/migration.md names every column the reader knows."""
    text = (Path(__file__).parents[2] / "docs" / "migration.md").read_text()
    assert [c for c in COLUMNS if f"`{c}`" not in text] == []
