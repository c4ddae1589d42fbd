"""Orders for devices, SIMs and accessories, by email.

A data directory upgraded from an earlier release gets the table empty (no orders on file); a
fresh seed gives one customer in three an order.

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
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("ordered_days_ago", sa.Integer(), nullable=False),
        sa.Column("delivery_in_days", sa.Integer(), nullable=False),
        sa.Column("delivery_option", sa.Text(), nullable=False),
        sa.Column("tracking_id", sa.Text(), nullable=True),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("orders_by_email", "orders", ["email"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
