"""Attempts: every failed try of a message, for support (``vsb-adapter show``).

One new table, nothing of the earlier ones changed, so the upgrade is instant on a store of
any size. Messages that failed before the upgrade have only their ``last_error``. The
downgrade drops the table (and the history of tries with it).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapter.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``attempts``."""
    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )
    op.create_index("ix_attempts_message", "attempts", ["message_id", "id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("attempts")
