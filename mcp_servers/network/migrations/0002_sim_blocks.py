"""A lost or stolen phone: SIM blocks and replacement SIM orders.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sim_blocks",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blocked_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("msisdn"),
    )
    op.create_table(
        "sim_orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("expected_delivery", sa.Text(), nullable=False),
        sa.Column("ordered_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
