"""Reading a facility's export of the files to migrate: JSON lines or CSV, one file per row.

The columns (docs/migration.md) are the same in both formats. Reading never stops at a bad
row: each problem becomes a ``RowError`` naming the line and the column, and the other rows
are read on. Texts name columns and rules, never values: the rows hold INSZ numbers and
diagnoses.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from mappings.identifiers import is_valid_insz

MAX_LINE_BYTES: Final = 65_536
"""A row longer than this is refused unread: no real export row comes near it."""
MAX_TEXT: Final = 2000
"""The longest text the VSB messages carry (vsb-1.0.xsd ``Text``)."""

_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_DSM5: Final = re.compile(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?|[0-9]{3}(\.[0-9]{1,2})?")
_DOSSIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_YES: Final = {"true", "yes", "ja", "1"}
_NO: Final = {"false", "no", "nee", "0"}


class Sector(StrEnum):
    """The two sectors with a migration (DOMAIN.md)."""

    PVT = "pvt"
    REVA = "reva"


@dataclass(frozen=True)
class MigrationFile:
    """One row of the export: a file (dossier) as the facility knows it."""

    line: int
    sector: Sector
    dossier_id: str
    insz: str
    start: date
    """The admission date (PVT) or the start of rehabilitation (REVA)."""
    end: date | None = None
    request_date: date | None = None
    migration: bool | None = None
    """The facility's own view, if it gave one: checked against the dates."""
    vi_receipt: date | None = None
    vi_approval: date | None = None
    vi_approved_start: date | None = None
    vi_approved_end: date | None = None
    consent_date: date | None = None
    user_type: str | None = None
    dsm5: str | None = None
    extension_end: date | None = None
    request_type: str | None = None
    location: str | None = None
    referred_by: str | None = None
    diagnosis: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be used."""

    line: int
    column: str | None
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.problem}"


COLUMNS: Final = tuple(f.name for f in fields(MigrationFile) if f.name != "line")
_DATES: Final = frozenset(
    {
        "start",
        "end",
        "request_date",
        "vi_receipt",
        "vi_approval",
        "vi_approved_start",
        "vi_approved_end",
        "consent_date",
        "extension_end",
    }
)
_REQUIRED: Final = {
    Sector.PVT: ("user_type", "dsm5"),
    Sector.REVA: ("request_type", "location", "referred_by", "diagnosis", "contact_name"),
}
_CHOICES: Final = {
    "user_type": ("psychiatric-patient", "mental-disability"),
    "request_type": ("diagnosis", "new", "restart"),
}


@dataclass(frozen=True)
class ExportReading:
    """Every usable row and every problem, in the order of the file."""

    files: list[MigrationFile]
    errors: list[RowError]


def read_export(path: Path) -> ExportReading:
    """Read an export; ``.csv`` is CSV with a header row, anything else JSON lines."""
    files: list[MigrationFile] = []
    errors: list[RowError] = []
    raw_rows = _csv_rows(path) if path.suffix.lower() == ".csv" else _json_rows(path)
    for line, raw in raw_rows:
        if isinstance(raw, RowError):
            errors.append(raw)
            continue
        file, problems = _row(line, raw)
        errors.extend(problems)
        if file is not None:
            files.append(file)
    return ExportReading(files, errors)


def _lines(path: Path) -> Iterator[tuple[int, str | RowError]]:
    """Each physical line, decoded on its own: one bad byte costs one line, not the file."""
    with path.open("rb") as stream:
        for number, data in enumerate(stream, start=1):
            if len(data) > MAX_LINE_BYTES:
                yield number, RowError(number, None, f"longer than {MAX_LINE_BYTES} bytes")
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                yield number, RowError(number, None, "not UTF-8")
                continue
            yield number, text.removeprefix("\ufeff") if number == 1 else text


def _json_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for number, text in _lines(path):
        if isinstance(text, RowError):
            yield number, text
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            yield number, RowError(number, None, "not one JSON object")
            continue
        if not isinstance(value, dict):
            yield number, RowError(number, None, "not one JSON object")
            continue
        yield number, value


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    decoded: list[str] = []
    problems: dict[int, RowError] = {}
    for number, text in _lines(path):
        if isinstance(text, RowError):
            problems[number] = text
            decoded.append("\n")  # keeps the line numbers of csv.reader true
        else:
            decoded.append(text)
    text = "".join(decoded)
    # Spreadsheets set to a Belgian locale write ";" between cells: the header line tells.
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            yield start, RowError(start, None, "not valid CSV (unbalanced quotes?)")
            continue
        if start in problems:
            yield start, problems.pop(start)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            unknown = [name for name in header if name not in COLUMNS]
            if unknown:
                names = ", ".join(name[:40] for name in unknown[:5])
                yield start, RowError(start, None, f"unknown columns: {names}")
            continue
        if len(cells) != len(header):
            yield start, RowError(start, None, f"{len(cells)} cells for {len(header)} columns")
            continue
        yield start, {name: cell for name, cell in zip(header, cells, strict=True) if cell}
    yield from sorted(problems.items())


class _Refused(ValueError):
    """One cell breaks its column's rule (the text names the rule, never the value)."""


def _row(line: int, raw: dict[str, Any]) -> tuple[MigrationFile | None, list[RowError]]:
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for name in COLUMNS:
        value = raw.get(name)
        if value is None or value == "":
            continue
        try:
            values[name] = _value(name, value)
        except _Refused as exc:
            errors.append(RowError(line, name, str(exc)))
    named = {error.column for error in errors}
    sector = values.get("sector")
    required = [(name, "is required") for name in ("sector", "dossier_id", "insz", "start")]
    if isinstance(sector, Sector):
        rule = f"is required for {sector.value.upper()}"
        required += [(name, rule) for name in _REQUIRED[sector]]
    for name, rule in required:
        if name not in values and name not in named:
            errors.append(RowError(line, name, rule))
    if errors:
        return None, errors
    return MigrationFile(line=line, **values), []


def _value(name: str, value: Any) -> Any:
    """The typed value of one cell; ``_Refused`` naming the rule it breaks."""
    if name == "migration":
        text = value.strip().lower() if isinstance(value, str) else value
        if text is True or text in _YES:
            return True
        if text is False or text in _NO:
            return False
        raise _Refused("must be yes or no")
    if not isinstance(value, str):
        raise _Refused("must be a string")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise _Refused(f"is longer than {MAX_TEXT} characters")
    if _CONTROL.search(text):
        raise _Refused("contains a control character")
    if name in _DATES:
        try:
            if len(text) != 10:
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise _Refused("must be a date YYYY-MM-DD") from None
    if name == "sector":
        if text.lower() not in {sector.value for sector in Sector}:
            raise _Refused("must be pvt or reva")
        return Sector(text.lower())
    rule = _PATTERNS.get(name)
    if rule is not None and not rule[0](text):
        raise _Refused(rule[1])
    if name in _CHOICES and text not in _CHOICES[name]:
        raise _Refused("must be one of " + ", ".join(_CHOICES[name]))
    return text


_PATTERNS: Final = {
    "insz": (is_valid_insz, "is not a valid INSZ or BIS number (11 digits, check digits)"),
    "dsm5": (
        lambda text: _DSM5.fullmatch(text) is not None,
        "is not a DSM-5 code (F20.9 or 295.90)",
    ),
    "dossier_id": (
        lambda text: _DOSSIER.fullmatch(text) is not None,
        "must be 1 to 64 letters, digits or . _ : / - (starting with a letter or digit)",
    ),
}
