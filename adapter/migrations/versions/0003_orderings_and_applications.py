"""Release 0.2: the ordering state apart from the dossiers' applications.

``dossiers`` held both a key's next sequence number and the REVA application's outcome and
reference. They become ``orderings`` (key, next sequence) and ``applications`` (outcome,
reference, refusal issues, closed), each row carried over.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapter.store.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Split ``dossiers`` into ``orderings`` and ``applications``."""
    op.create_table(
        "orderings",
        sa.Column("key", sa.String(140), primary_key=True),
        sa.Column("next_sequence", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "applications",
        sa.Column("dossier_key", sa.String(140), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("vsb_reference", sa.String(40)),
        sa.Column("issues", sa.Text),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.execute(
        "INSERT INTO orderings (key, next_sequence, updated_at)"
        " SELECT key, next_sequence, updated_at FROM dossiers"
    )
    op.execute(
        "INSERT INTO applications (dossier_key, outcome, vsb_reference, issues, closed, updated_at)"
        " SELECT key, application_outcome, vsb_reference, application_issues, false, updated_at"
        " FROM dossiers WHERE application_outcome IS NOT NULL"
    )
    op.drop_table("dossiers")


def downgrade() -> None:
    """Join them again (a closed application is forgotten: 0.1 had no such state)."""
    op.create_table(
        "dossiers",
        sa.Column("key", sa.String(140), primary_key=True),
        sa.Column("next_sequence", sa.Integer, nullable=False),
        sa.Column("vsb_reference", sa.String(40)),
        sa.Column("application_outcome", sa.String(16)),
        sa.Column("application_issues", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.execute(
        "INSERT INTO dossiers (key, next_sequence, vsb_reference, application_outcome,"
        " application_issues, updated_at)"
        " SELECT o.key, o.next_sequence, a.vsb_reference, a.outcome, a.issues, o.updated_at"
        " FROM orderings o LEFT JOIN applications a ON a.dossier_key = o.key"
    )
    op.drop_table("applications")
    op.drop_table("orderings")
