"""The insurance statuses the adapter relayed: which care fund an invoice's person belongs to.

One row per person, found by a blind index of the INSZ (``sealing.BlindIndex``: HMAC-SHA256
under the keyring's ``@index`` key), never by the INSZ itself: the table then holds nothing
that names a person to whoever reads the database without the keyring. A plain hash would
not do: every INSZ can be hashed in hours. The newest answer wins, whatever order the
answers are recorded in.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select

from adapter.store.records import KnownStatus
from adapter.store.sealing import BlindIndex
from adapter.store.tables import INSURANCE_STATUSES
from adapter.store.upsert import dialect_insert
from mappings.invoice_batch import Invoice
from mappings.model import Issue

_STATUS = INSURANCE_STATUSES.c


def remember_status(
    db: Connection,
    index: BlindIndex,
    insz: str,
    care_fund: str | None,
    valid_from: date | None,
    answered_at: datetime,
) -> None:
    """Keep the insurance status relayed for ``insz`` unless a newer one is kept already.

    ``care_fund`` None: the person is affiliated with no care fund. Of two statuses answered
    at the same instant the later recorded wins.
    """
    statement = dialect_insert(db, INSURANCE_STATUSES).values(
        person=index.of(insz),
        care_fund=care_fund,
        valid_from=valid_from,
        answered_at=answered_at,
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["person"],
            set_={
                "care_fund": statement.excluded.care_fund,
                "valid_from": statement.excluded.valid_from,
                "answered_at": statement.excluded.answered_at,
            },
            where=_STATUS.answered_at <= statement.excluded.answered_at,
        )
    )


def known_status(db: Connection, index: BlindIndex, insz: str) -> KnownStatus | None:
    """The last insurance status relayed for ``insz``; None if the adapter relayed none."""
    row = db.execute(
        select(_STATUS.care_fund, _STATUS.valid_from, _STATUS.answered_at).where(
            _STATUS.person == index.of(insz)
        )
    ).first()
    return None if row is None else KnownStatus(row[0], row[1], row[2])


def care_fund_refusal(
    db: Connection, index: BlindIndex, invoice: Invoice, care_fund: str
) -> Issue | None:
    """Why ``invoice`` may not go to ``care_fund``; None if its person's last relayed status
    names that fund.

    Without a relayed status the EPD is told to look the person up first (an
    ``insurance-status`` event); the texts name the invoice and the funds, never the INSZ.
    """
    known = known_status(db, index, invoice.insz)
    if known is None:
        return Issue(
            "invoice-status-unknown",
            f"invoice {invoice.number}: the adapter relayed no insurance status for this"
            " person; send an insurance-status look-up first, then the invoice again",
            "Claim.patient",
        )
    if known.care_fund == care_fund:
        return None
    said = (
        "affiliated with no care fund"
        if known.care_fund is None
        else f"affiliated with care fund {known.care_fund}"
    )
    return Issue(
        "invoice-care-fund",
        f"invoice {invoice.number} is for care fund {care_fund}, but the last insurance status"
        f" relayed for this person ({known.answered_at:%Y-%m-%d}) says {said}",
        "Claim.insurer",
    )
