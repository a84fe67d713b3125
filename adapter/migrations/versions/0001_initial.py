"""The first schema: events, messages, dossiers, answers, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapter.store.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("event_code", sa.String(64)),
        sa.Column("dossier_id", sa.String(64)),
        sa.Column("sequence", sa.Integer),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("issues", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("replaces_message_id", sa.String(64)),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_code", sa.String(64), nullable=False),
        sa.Column("ordering_key", sa.String(140)),
        sa.Column("sequence", sa.Integer),
        sa.Column("ordered", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("failing_since", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", UtcDateTime),
        sa.Column("fence", sa.Integer, nullable=False),
        sa.UniqueConstraint("ordering_key", "sequence", name="uq_messages_key_sequence"),
    )
    op.create_index("ix_messages_state_due", "messages", ["state", "next_attempt_at"])
    op.create_index("ix_messages_event", "messages", ["event_id"])
    op.create_table(
        "dossiers",
        sa.Column("key", sa.String(140), primary_key=True),
        sa.Column("next_sequence", sa.Integer, nullable=False),
        sa.Column("vsb_reference", sa.String(40)),
        sa.Column("application_outcome", sa.String(16)),
        sa.Column("application_issues", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "answers",
        sa.Column("answer_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_code", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("vsb_reference", sa.String(40)),
        sa.Column("issues", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime),
        sa.Column("confirmed_at", UtcDateTime),
    )
    op.create_index("ix_answers_unpublished", "answers", ["published_at", "created_at"])
    op.create_index("ix_answers_event", "answers", ["event_id"])
    op.create_table(
        "audit",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(140), nullable=False),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    """Drop the tables."""
    for table in ("audit", "answers", "dossiers", "messages", "events"):
        op.drop_table(table)
