"""Invoicing: the ledger of batches and their lines, held corrections, insurance statuses.

Four new tables, nothing of the earlier ones changed, so the upgrade is instant on a store
of any size and the downgrade drops them (and with them the ledger: a downgraded adapter
does not invoice).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapter.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``invoice_batches``, ``invoice_lines``, ``held_invoices``, ``insurance_statuses``."""
    op.create_table(
        "invoice_batches",
        sa.Column("batch_number", sa.String(40), primary_key=True),
        sa.Column("care_fund", sa.String(16), nullable=False),
        sa.Column("invoice_type", sa.String(8), nullable=False),
        sa.Column("billing_month", sa.String(7), nullable=False),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("judged", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_invoice_batches_month", "invoice_batches", ["care_fund", "billing_month"])
    op.create_index("ix_invoice_batches_message", "invoice_batches", ["message_id"], unique=True)
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_number", sa.String(40), primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True),
        sa.Column("batch_number", sa.String(40), nullable=False),
        sa.Column("invoice_kind", sa.String(16), nullable=False),
        sa.Column("corrects", sa.String(40)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("service_code", sa.String(8), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("for_line", sa.Integer),
        sa.Column("credits_invoice", sa.String(40)),
        sa.Column("credits_line", sa.Integer),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("credited_by", sa.String(40)),
    )
    op.create_index("ix_invoice_lines_batch", "invoice_lines", ["batch_number"])
    op.create_index(
        "ix_invoice_lines_credits", "invoice_lines", ["credits_invoice", "credits_line"]
    )
    op.create_table(
        "held_invoices",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("care_fund", sa.String(16), nullable=False),
        sa.Column("corrects", sa.String(40), nullable=False),
        sa.Column("held_at", UtcDateTime, nullable=False),
        sa.Column("released_at", UtcDateTime),
    )
    op.create_index("ix_held_invoices_fund", "held_invoices", ["care_fund", "released_at"])
    op.create_table(
        "insurance_statuses",
        sa.Column("person", sa.String(64), primary_key=True),
        sa.Column("care_fund", sa.String(16)),
        sa.Column("valid_from", sa.Date),
        sa.Column("answered_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("insurance_statuses", "held_invoices", "invoice_lines", "invoice_batches"):
        op.drop_table(table)
