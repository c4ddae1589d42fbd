"""The card on file and autopay, by account number.

A data directory upgraded from an earlier release gets the table empty (payment-method answers
that no card is on file); a fresh seed writes one for every account.

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
        "payment_methods",
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("card_last4", sa.Text(), nullable=False),
        sa.Column("card_expiry", sa.Text(), nullable=False),
        sa.Column("autopay", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_number"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
