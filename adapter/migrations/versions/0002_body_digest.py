"""Release 0.2: the digest of each event's body, and the instances' heartbeats.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapter.store.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``events.body_digest`` (empty for old events) and the ``instances`` table."""
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("body_digest", sa.String(64)))
    op.create_table(
        "instances",
        sa.Column("instance_id", sa.String(128), primary_key=True),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("instances")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("body_digest")
