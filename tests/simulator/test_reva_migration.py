"""REVA migration files (switch-over 1/10/2023): only a file the VI approved, of a
rehabilitation started before 1 October 2023, is spared the 30-day rule; one row per
boundary, over HTTP, with "today" years after the start."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from simulator import Simulator
from simulator.rules import codes

from .conftest import CAN_JOIN, CANNOT_JOIN, SoapClient, admin, reva_application
from .scenario import Signer, errors


@dataclass(frozen=True)
class MigrationRow:
    """A RevaApplication sent on ``today`` and the outcome and codes expected."""

    id: str
    start: str
    migration: bool
    vi_approval: str | None
    outcome: str
    codes: tuple[str, ...] = ()
    today: str = "2026-03-10"
    insz: str | None = None


ROWS = [
    MigrationRow("started 2023-09-30, VI-approved", "2023-09-30", True, "2023-09-15", "accepted"),
    MigrationRow(
        "started 2023-10-01: not a migration file",
        "2023-10-01",
        True,
        "2023-09-15",
        "refused",
        (codes.REVA_MIGRATION_TOO_LATE,),
    ),
    MigrationRow(
        "started 2023-10-02: not a migration file",
        "2023-10-02",
        True,
        "2023-09-15",
        "refused",
        (codes.REVA_MIGRATION_TOO_LATE,),
    ),
    MigrationRow(
        "no VI approval date",
        "2023-09-30",
        True,
        None,
        "refused",
        (codes.REVA_MIGRATION_NO_VI_APPROVAL,),
    ),
    MigrationRow(
        "started 2023-10-01 without VI approval date: both",
        "2023-10-01",
        True,
        None,
        "refused",
        (codes.REVA_MIGRATION_TOO_LATE, codes.REVA_MIGRATION_NO_VI_APPROVAL),
    ),
    MigrationRow(
        "VI approval after the switch-over is fine",
        "2023-09-01",
        True,
        "2023-10-20",
        "accepted",
    ),
    MigrationRow(
        "no migration flag: the 30-day rule holds",
        "2023-09-30",
        False,
        "2023-09-15",
        "refused",
        (codes.LATE,),
    ),
    MigrationRow(
        "no migration flag, in time on 2023-10-30",
        "2023-09-30",
        False,
        None,
        "accepted",
        today="2023-10-30",
    ),
    MigrationRow(
        "no migration flag, 31 days on 2023-10-31",
        "2023-09-30",
        False,
        None,
        "refused",
        (codes.LATE,),
        today="2023-10-31",
    ),
    MigrationRow(
        "a migration file of a user who can join: in beraad",
        "2023-09-30",
        True,
        "2023-09-15",
        "in-beraad",
        (codes.CAN_JOIN,),
        insz=CAN_JOIN,
    ),
    MigrationRow(
        "a migration file of a user who cannot join",
        "2023-09-30",
        True,
        "2023-09-15",
        "refused",
        (codes.CANNOT_JOIN,),
        insz=CANNOT_JOIN,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_migration_file(fresh_simulator: Simulator, signed: Signer, row: MigrationRow) -> None:
    """The application gets the row's outcome and codes; an accepted one a reference."""
    admin(fresh_simulator, "POST", "today", {"date": row.today})
    message = reva_application(
        *([row.insz] if row.insz else []),
        start=row.start,
        end="2028-08-31",
        request_date=row.start,
        migration=row.migration,
        vi_approval=row.vi_approval,
    )
    reply = SoapClient(fresh_simulator.url, keep_alive=False).submit(signed(message))
    assert (reply.text("v:Outcome"), errors(reply)) == (row.outcome, list(row.codes))
    assert (reply.text("v:VsbReference") is not None) is (row.outcome == "accepted")


def test_the_history_shows_the_vi_approval_date(simulator: Simulator, signed: Signer) -> None:
    """GET /admin/applications/<reference> shows the migration flag and the VI's date."""
    message = reva_application(
        start="2023-09-30", end="2028-09-29", migration=True, vi_approval="2023-09-15"
    )
    reference = SoapClient(simulator.url).submit(signed(message)).text("v:VsbReference")
    shown = admin(simulator, "GET", f"applications/{reference}")
    assert (shown["migration"], shown["vi_approval_date"]) == (True, "2023-09-15")
