"""Credits to a customer's next bill, once per reference (an outage is compensated once).

Revision ID: 0003
Revises: 0002

Adds a table only: every existing row stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credits",
        sa.Column("credit_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("credit_id"),
        sa.UniqueConstraint("msisdn", "reference", name="credits_once_per_reference"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
