"""Contract terms: the minimum term, its end date and the exit fee for each month left.

A data directory upgraded from an earlier release gets the table empty (its customers have no
contract on file, so contract-end answers that it cannot find one); a fresh seed writes a
contract for every customer.

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
        "contracts",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("started_on", sa.Text(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Text(), nullable=False),
        sa.Column("exit_fee_per_month_pence", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["msisdn"], ["accounts.msisdn"]),
        sa.PrimaryKeyConstraint("msisdn"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
