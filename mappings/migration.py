"""What kind of file an admission or application is at its sector's switch-over.

The migration (seed 000, "Migratieproces onder leiding van softwareleveranciers") is led by
the software vendors, so by this adapter: files the mutualities (VI) had approved before the
switch-over go to the central application as migration files, with limited content and
without the 30-day rule; the others as new requests. DOMAIN.md, "PVT: admissions and the
migration procedure", gives the classes; one pure function per sector decides them from the
file's dates. The mappers use it to refuse an EPD flag that contradicts the dates, and to
build the message; the answer repeats the class and its reason; ``vsb-adapter migration``
prints it for a whole export before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

PVT_SWITCH_OVER: Final = date(2023, 4, 1)
"""Psychiatric care homes join VSB: stays from this day are the care funds'."""
PVT_LAST_VI_RECEIPT: Final = date(2023, 4, 30)
"""A file the VI received on or before this day (seed 000: "voor 30/04/23", DOMAIN.md's
reading) is still a migration file once approved; a later one is a late request."""
LATE_REQUEST_DAYS: Final = 30
"""A late request is granted at the earliest this many days before the VI received it."""
REVA_SWITCH_OVER: Final = date(2023, 10, 1)
"""Rehabilitation facilities (7.71 conventions, part 2) join VSB."""


class MigrationClass(StrEnum):
    """The classes of DOMAIN.md, in the words the answer and the migration report use."""

    MIGRATION_FILE = "migration-file"
    """Approved by the VI, still running at the switch-over: sent as a migration file."""
    MIGRATION_FILE_EXTENSION_FOLLOWS = "migration-file-extension-follows"
    """Approved until the eve of the switch-over, extended from it: the file is migrated and
    its extension goes as a modification of the admission (PVT class 3)."""
    LATE_REQUEST = "late-request"
    """Received by the VI after 30/4/2023: a new request, granted from 1/4/2023 at the
    earliest and at most 30 days before that receipt (PVT class 4)."""
    NEW_REQUEST = "new-request"
    """Starting on or after the switch-over, or (REVA) never approved by the VI."""
    NOTHING_TO_MIGRATE = "nothing-to-migrate"
    """The VI-approved period ended before the switch-over and is not extended."""
    AWAITING_APPROVAL = "awaiting-approval"
    """Received by the VI in time but not approved yet: to be sent once it is (PVT class 2)."""


_MIGRATED: Final = frozenset(
    {MigrationClass.MIGRATION_FILE, MigrationClass.MIGRATION_FILE_EXTENSION_FOLLOWS}
)
_SENDABLE: Final = _MIGRATED | {MigrationClass.LATE_REQUEST, MigrationClass.NEW_REQUEST}


@dataclass(frozen=True)
class Classification:
    """The class of one file, why, and the start date it is sent with."""

    kind: MigrationClass
    reason: str
    """One sentence an EPD user or a support person can act on (dates, no personal data)."""
    start: date
    """The first day of the requested right: the admission's or the application's start,
    except for a late request, whose right begins later."""

    @property
    def migration(self) -> bool:
        """Sent as a migration file (limited content, no 30-day rule)."""
        return self.kind in _MIGRATED

    @property
    def sendable(self) -> bool:
        """Whether the file goes to the central application at all (now)."""
        return self.kind in _SENDABLE

    def flag_contradiction(self, flagged: bool) -> str | None:
        """Why the EPD's migration flag contradicts the dates (None: it agrees).

        Only sendable files have a flag to contradict: the others are refused for what
        they are, whatever the flag says.
        """
        if not self.sendable or flagged == self.migration:
            return None
        if flagged:
            return f"flagged as a migration file, but {self.reason}"
        return f"not flagged as a migration file, but {self.reason}; set the migration flag"


@dataclass(frozen=True)
class PvtFile:
    """The dates of a PVT admission that decide its class."""

    admission: date
    vi_receipt: date | None = None
    """When the VI received the request; needed for an admission before the switch-over."""
    vi_approval: date | None = None
    approved_end: date | None = None
    """The last day of the VI-approved period."""
    extension_follows: bool = False
    """An extension from the switch-over day follows (for a period ending on its eve)."""


def _day(value: date) -> str:
    return value.isoformat()


def classify_pvt(file: PvtFile) -> Classification:
    """The class of a PVT admission (DOMAIN.md, PVT classes 1 to 5).

    An admission before the switch-over that the VI never received is a late request too:
    its receipt is the central application's own, which grants it at the earliest 30 days
    before that day.
    """
    admission = file.admission
    if admission >= PVT_SWITCH_OVER:
        return Classification(
            MigrationClass.NEW_REQUEST,
            f"the admission starts on {_day(admission)}, on or after the switch-over of"
            " 2023-04-01: a new request to the care fund",
            admission,
        )
    before = f"the admission started on {_day(admission)}, before the switch-over of 2023-04-01"
    receipt = file.vi_receipt
    if receipt is None or receipt > PVT_LAST_VI_RECEIPT:
        earliest = max(admission, PVT_SWITCH_OVER)
        if receipt is not None:
            earliest = max(earliest, receipt - timedelta(days=LATE_REQUEST_DAYS))
        received = (
            "never received the request"
            if receipt is None
            else (f"received the request on {_day(receipt)}, after 2023-04-30")
        )
        return Classification(
            MigrationClass.LATE_REQUEST,
            f"{before}, and the VI {received}: a late"
            f" request, sent as a new request from {_day(earliest)} (at the earliest"
            f" 2023-04-01 and at most {LATE_REQUEST_DAYS} days before the VI's receipt)",
            earliest,
        )
    if file.vi_approval is None:
        return Classification(
            MigrationClass.AWAITING_APPROVAL,
            f"{before}, and the VI received the request on {_day(receipt)} but has not approved"
            " it yet: send it as a migration file once the VI's approval is in",
            admission,
        )
    end = file.approved_end
    eve = PVT_SWITCH_OVER - timedelta(days=1)
    if end is not None and (end < eve or (end == eve and not file.extension_follows)):
        return Classification(
            MigrationClass.NOTHING_TO_MIGRATE,
            f"the VI-approved period ended on {_day(end)}, before the switch-over, without an"
            " extension from 2023-04-01: nothing to migrate",
            admission,
        )
    approved = f"approved by the VI on {_day(file.vi_approval)}"
    if end == eve:
        return Classification(
            MigrationClass.MIGRATION_FILE_EXTENSION_FOLLOWS,
            f"{before}, {approved} until 2023-03-31: a migration file; its extension from"
            " 2023-04-01 goes as a pvt-extension, a modification of the admission",
            admission,
        )
    until = "" if end is None else f" until {_day(end)}"
    return Classification(
        MigrationClass.MIGRATION_FILE,
        f"{before}, {approved}{until}: a migration file",
        admission,
    )


def classify_reva(start: date, vi_approval: date | None) -> Classification:
    """The class of a REVA application (DOMAIN.md: rehabilitation started before 1/10/2023
    and approved by the VI is a migration file; anything else a normal application)."""
    if start >= REVA_SWITCH_OVER:
        return Classification(
            MigrationClass.NEW_REQUEST,
            f"rehabilitation starts on {_day(start)}, on or after the switch-over of"
            " 2023-10-01: a normal application",
            start,
        )
    before = f"rehabilitation started on {_day(start)}, before the switch-over of 2023-10-01"
    if vi_approval is None:
        return Classification(
            MigrationClass.NEW_REQUEST,
            f"{before}, without an approval by the VI: a normal application (the 30-day rule"
            " applies)",
            start,
        )
    return Classification(
        MigrationClass.MIGRATION_FILE,
        f"{before}, and the VI approved it on {_day(vi_approval)}: a migration file",
        start,
    )
