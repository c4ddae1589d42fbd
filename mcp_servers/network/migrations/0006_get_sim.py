"""SIM and eSIM activations on a line.

Revision ID: 0006
Revises: 0005

Adds a table only: every existing row stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sim_activations",
        sa.Column("activation_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("sim_type", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("activated_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("activation_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
