"""One-time links to set a new password or finish registering online (a keyed hash only).

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
        "sign_in_links",
        sa.Column("link_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
        sa.PrimaryKeyConstraint("link_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
