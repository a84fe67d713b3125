"""Deadlines: the day a message must reach the central application, and its period's close.

Nullable columns only, so the upgrade is instant on a store of any size:
``messages.deadline_rule`` and ``due_on`` (an application's 30-day rule, a change's 5-day
window), ``messages.period_effect`` and ``period_date`` (what an accepted message does to its
dossier's period), ``applications.period_ends_on`` and ``stopped_on`` (the period's close,
for the 5-day window; ``mappings.deadline``). Messages stored before the upgrade have no
deadline: no deadline gauge counts them. The downgrade drops the columns.

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

_MESSAGES = (
    ("deadline_rule", sa.String(8)),
    ("due_on", sa.Date()),
    ("period_effect", sa.String(8)),
    ("period_date", sa.Date()),
)
_APPLICATIONS = (("period_ends_on", sa.Date()), ("stopped_on", sa.Date()))


def upgrade() -> None:
    """Add the columns."""
    for table, columns in (("messages", _MESSAGES), ("applications", _APPLICATIONS)):
        with op.batch_alter_table(table) as batch:
            for name, kind in columns:
                batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Drop them."""
    for table, columns in (("applications", _APPLICATIONS), ("messages", _MESSAGES)):
        with op.batch_alter_table(table) as batch:
            for name, _ in columns:
                batch.drop_column(name)
