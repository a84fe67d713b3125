"""The plan of a migration: each file of the export with its class, reason and events.

Every event is checked exactly as ingest will check it (``mappings.check_event``), so a plan
without invalid files is a promise: ``send`` publishes nothing the adapter would refuse.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from adapter.migration.bundles import PlannedEvent, events_of
from adapter.migration.export import MigrationFile, RowError, Sector, read_export
from mappings import check_event
from mappings.migration import Classification, MigrationClass, PvtFile, classify_pvt, classify_reva
from mappings.model import Facility


@dataclass(frozen=True)
class PlannedFile:
    """One valid file of the export and what it becomes."""

    file: MigrationFile
    classification: Classification
    events: tuple[PlannedEvent, ...]


@dataclass(frozen=True)
class Plan:
    """The whole export: the files to send (or not), and the rows that cannot be used."""

    files: list[PlannedFile]
    errors: list[RowError]

    def counts(self) -> Counter[MigrationClass]:
        """Files per class."""
        return Counter(planned.classification.kind for planned in self.files)

    def events(self) -> list[PlannedEvent]:
        """Every event to publish, file by file, each file's in sequence order."""
        return [event for planned in self.files for event in planned.events]


def classify(file: MigrationFile) -> Classification:
    """The class of one file of the export, by its sector's rule (``mappings.migration``)."""
    if file.sector is Sector.REVA:
        return classify_reva(file.start, file.vi_approval)
    return classify_pvt(
        PvtFile(
            admission=file.start,
            vi_receipt=file.vi_receipt,
            vi_approval=file.vi_approval,
            approved_end=file.vi_approved_end,
            extension_follows=file.extension_end is not None,
        )
    )


def make_plan(export: Path, facility: Facility) -> Plan:
    """Read, classify and check every row of ``export`` (nothing is sent)."""
    reading = read_export(export)
    errors = list(reading.errors)
    files: list[PlannedFile] = []
    first_line: dict[tuple[Sector, str], int] = {}
    for file in reading.files:
        key = (file.sector, file.dossier_id)
        if key in first_line:
            text = f"the same dossier_id as line {first_line[key]}: one row per file"
            errors.append(RowError(file.line, "dossier_id", text))
            continue
        first_line[key] = file.line
        found = classify(file)
        events = tuple(events_of(file, found, facility))
        problems = _problems(file, found, events, facility)
        if problems:
            errors.extend(problems)
            continue
        files.append(PlannedFile(file, found, events))
    errors.sort(key=lambda error: error.line)
    return Plan(files, errors)


def _problems(
    file: MigrationFile,
    found: Classification,
    events: tuple[PlannedEvent, ...],
    facility: Facility,
) -> list[RowError]:
    if file.migration is not None:
        contradiction = found.flag_contradiction(file.migration)
        if contradiction is not None:
            return [RowError(file.line, "migration", contradiction)]
    problems = []
    for event in events:
        verdict = check_event(event.body, facility)
        for issue in verdict.issues:
            where = f" at {issue.expression}" if issue.expression else ""
            text = f"the {event.code} event is refused: {issue.code}{where}"
            problems.append(RowError(file.line, None, text))
    return problems
