"""The migration classes end to end, every class at every boundary date, both sectors.

Each row is one file as an EPD would send it (``pvt-admission`` or ``reva-application``,
built by the migration's own builder from a row of an export, its flag set as the row says),
published on RabbitMQ, checked and classified by the adapter, judged by the simulator on the
row's day, and answered: the answer's outcome, the class the adapter put in it (or the issue
it refused the event with) and, for an accepted PVT admission, the start it was granted.
DOMAIN.md, "PVT: admissions and the migration procedure"; docs/migration.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from adapter.migration.bundles import events_of
from adapter.migration.export import MigrationFile, Sector
from adapter.migration.plan import classify
from mappings.migration import MigrationClass
from mappings.model import Facility
from mappings.vocabulary import MIGRATION_CLASS_EXTENSION
from tests.integration.conftest import DomainRig
from tests.support.reva import insz
from tests.support.rig import issue_codes, outcome

D = date.fromisoformat
FACILITY = Facility("71012314001", "40012345")
NOTHING = MigrationClass.NOTHING_TO_MIGRATE


@dataclass(frozen=True)
class Row:
    """One file, the day it is sent, and what must come back."""

    name: str
    file: MigrationFile
    today: str
    outcome: str
    found: str
    """The class in the answer, or the issue code of the refusal."""
    flag: bool | None = None
    """Override the flag the builder derives from the dates (a contradicting EPD)."""
    granted: str | None = None
    """An accepted PVT admission's granted start (ClaimResponse.preAuthPeriod.start)."""


def pvt(start: str, receipt: str | None = None, approval: str | None = None,
        end: str | None = None, extension: str | None = None) -> MigrationFile:  # fmt: skip
    """A PVT file: admitted on ``start``, with the VI's dates if given."""
    return MigrationFile(
        line=1,
        sector=Sector.PVT,
        dossier_id="set-per-row",
        insz="set-per-row",
        start=D(start),
        vi_receipt=None if receipt is None else D(receipt),
        vi_approval=None if approval is None else D(approval),
        vi_approved_start=None if end is None else D(start),
        vi_approved_end=None if end is None else D(end),
        extension_end=None if extension is None else D(extension),
        consent_date=D(start),  # left out by the builder for a migration file
        user_type="psychiatric-patient",
        dsm5="F20.9",
    )


def reva(start: str, approval: str | None = None) -> MigrationFile:
    """A REVA diagnosis application starting on ``start``, VI-approved on ``approval``."""
    return MigrationFile(
        line=1,
        sector=Sector.REVA,
        dossier_id="set-per-row",
        insz="set-per-row",
        start=D(start),
        end=D(f"{int(start[:4]) + 2}{start[4:]}"),
        vi_approval=None if approval is None else D(approval),
        consent_date=None if approval is not None else D(start),
        request_type="diagnosis",
        location="Campus Gent",
        referred_by="General practitioner",
        diagnosis="Diagnostic assessment.",
        contact_name="An Janssens",
    )


APPROVED = ("2022-05-20", "2022-05-30")
ROWS = [
    # PVT: the admission date around the switch-over of 1/4/2023
    Row("pvt admitted 03-31, approved: migration file",
        pvt("2023-03-31", "2023-03-01", "2023-03-20", "2023-12-31"),
        "2023-05-10", "accepted", "migration-file", granted="2023-04-01"),
    Row("pvt admitted 04-01: new request",
        pvt("2023-04-01"), "2023-04-20", "accepted", "new-request", granted="2023-04-01"),
    Row("pvt admitted 04-02: new request",
        pvt("2023-04-02"), "2023-04-20", "accepted", "new-request", granted="2023-04-02"),
    Row("pvt admitted 04-01 flagged as migration: refused",
        pvt("2023-04-01"), "2023-04-20", "invalid", "migration-flag", flag=True),
    Row("pvt approved file not flagged: refused",
        pvt("2023-03-31", "2023-03-01", "2023-03-20", "2023-12-31"),
        "2023-05-10", "invalid", "migration-flag", flag=False),
    # PVT: the VI's receipt around 30/4/2023
    Row("pvt received 04-29, approved after: migration file",
        pvt("2023-01-10", "2023-04-29", "2023-05-20", "2024-01-09"),
        "2023-06-01", "accepted", "migration-file", granted="2023-04-01"),
    Row("pvt received 04-30, approved after: migration file",
        pvt("2023-01-10", "2023-04-30", "2023-05-20", "2024-01-09"),
        "2023-06-01", "accepted", "migration-file", granted="2023-04-01"),
    Row("pvt received 05-01: late request from 04-01",
        pvt("2023-01-10", "2023-05-01"), "2023-05-10", "accepted", "late-request",
        granted="2023-04-10"),
    Row("pvt received 05-31: late request from 05-01",
        pvt("2023-01-10", "2023-05-31"), "2023-06-05", "accepted", "late-request",
        granted="2023-05-06"),
    Row("pvt late request flagged as migration: refused",
        pvt("2023-01-10", "2023-05-01"), "2023-05-10", "invalid", "migration-flag", flag=True),
    Row("pvt received 04-20, not approved: awaiting approval",
        pvt("2023-03-01", "2023-04-20"), "2023-05-10", "invalid", "awaiting-vi-approval"),
    # PVT: the approved period around 31/3/2023
    Row("pvt period ended 03-30: nothing to migrate",
        pvt("2022-06-01", *APPROVED, "2023-03-30"), "2023-05-10", "invalid",
        "nothing-to-migrate"),
    Row("pvt period ended 03-31, no extension: nothing to migrate",
        pvt("2022-06-01", *APPROVED, "2023-03-31"), "2023-05-10", "invalid",
        "nothing-to-migrate"),
    Row("pvt period ended 03-31, extended: migration file, extension follows",
        pvt("2022-06-01", *APPROVED, "2023-03-31", "2025-03-31"), "2023-05-10", "accepted",
        "migration-file-extension-follows"),
    Row("pvt period ends 04-01: migration file",
        pvt("2022-06-01", *APPROVED, "2023-04-01"), "2023-05-10", "accepted",
        "migration-file", granted="2023-04-01"),
    # REVA: the start around the switch-over of 1/10/2023
    Row("reva started 09-30, approved: migration file (no 30-day rule)",
        reva("2023-09-30", "2023-09-15"), "2023-12-01", "accepted", "migration-file"),
    Row("reva started 10-01 flagged as migration: refused",
        reva("2023-10-01", "2023-09-15"), "2023-10-15", "invalid", "migration-flag", flag=True),
    Row("reva started 10-01: normal application",
        reva("2023-10-01"), "2023-10-15", "accepted", "new-request"),
    Row("reva started 10-02: normal application",
        reva("2023-10-02"), "2023-10-15", "accepted", "new-request"),
    Row("reva started 09-30, not approved: normal application",
        reva("2023-09-30"), "2023-10-15", "accepted", "new-request"),
    Row("reva started 09-30, not approved, 31 days later: refused as late",
        reva("2023-09-30"), "2023-10-31", "refused", "new-request"),
    Row("reva started 09-30, approved, not flagged: refused",
        reva("2023-09-30", "2023-09-15"), "2023-12-01", "invalid", "migration-flag", flag=False),
]  # fmt: skip


def migration_class(answer: dict[str, Any]) -> str | None:
    """The class the adapter put on the answer's focus."""
    for entry in answer["entry"][1:]:
        for extension in entry["resource"].get("extension", []):
            if extension["url"] == MIGRATION_CLASS_EXTENSION:
                return next(
                    str(x["valueCode"]) for x in extension["extension"] if x["url"] == "class"
                )
    return None


def granted_start(answer: dict[str, Any]) -> str | None:
    """The start of the period an accepted admission was granted."""
    return next(
        (e["resource"].get("preAuthPeriod", {}).get("start") for e in answer["entry"][1:]), None
    )


def with_flag(body: bytes, flag: bool) -> bytes:
    """The event with its migration flag set to ``flag``, whatever the dates say."""
    document = json.loads(body)
    claim = document["entry"][-1]["resource"]
    for item in claim["supportingInfo"]:
        if item["category"]["coding"][0]["code"] == "migration":
            item["valueBoolean"] = flag
    return json.dumps(document).encode()


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[row.name for row in ROWS])
def test_class(domain_rig: DomainRig, index: int) -> None:
    """The row's event gets the outcome, class or refusal, and granted start it says."""
    row = ROWS[index]
    person = insz(D("1950-01-01"), index + 1)
    file = replace(row.file, dossier_id=f"MIG-{index}-{uuid.uuid4().hex[:6]}", insz=person)
    found = classify(file)
    if not found.sendable:
        # The migration command sends no such file; an EPD could, flagged or not.
        sent_as = (
            MigrationClass.MIGRATION_FILE if found.kind is NOTHING else MigrationClass.NEW_REQUEST
        )
        found = replace(found, kind=sent_as)
    bodies = [event.body for event in events_of(file, found, FACILITY)]
    if row.flag is not None:
        bodies[0] = with_flag(bodies[0], row.flag)
    domain_rig.simulator.set_today(D(row.today))
    adapter = domain_rig.adapter
    sent = adapter.send(*bodies)
    answers = adapter.answers(sent)
    first = answers[sent[0]][-1]
    where = f"{row.name}: {outcome(first)} {sorted(issue_codes(first))}"
    assert outcome(first) == row.outcome, where
    if row.outcome == "invalid":
        assert row.found in issue_codes(first), where
    else:
        assert migration_class(first) == row.found, where
    if row.granted is not None:
        assert granted_start(first) == row.granted, where
    for event in sent[1:]:  # a migration file's extension from 1/4/2023
        assert outcome(answers[event][-1]) == "accepted", f"{row.name}: the extension"
