"""Account closures: when an account closes, why, and the exit fee it was closed with.

Adds an empty table: no account is closing until a customer asks and a person approves.

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
    op.create_table(
        "account_closures",
        sa.Column("closure_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.Text(), nullable=False),
        sa.Column("closes_on", sa.Text(), nullable=False),
        sa.Column("exit_fee_pence", sa.Integer(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["msisdn"], ["accounts.msisdn"]),
        sa.PrimaryKeyConstraint("closure_id"),
        sa.UniqueConstraint("msisdn"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
