"""Deadlines: the day a message must reach the central application, and a period's close.

Three nullable date columns: ``messages.due_on`` (an application's 30-day rule),
``messages.closes_on`` (the period's close an accepted message sets) and
``applications.closes_on`` (the dossier's period close, for the 5-day late-change window).
Adding a nullable column is instant on both backends; messages stored before the upgrade
have no deadline (they are counted by no deadline gauge). The downgrade drops them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the three columns."""
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("due_on", sa.Date, nullable=True))
        messages.add_column(sa.Column("closes_on", sa.Date, nullable=True))
    with op.batch_alter_table("applications") as applications:
        applications.add_column(sa.Column("closes_on", sa.Date, nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("applications") as applications:
        applications.drop_column("closes_on")
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("closes_on")
        messages.drop_column("due_on")
