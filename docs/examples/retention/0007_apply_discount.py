"""Retention discounts: the terms each plan allows (reference rows) and the discounts applied.

Revision ID: 0007
Revises: 0006

Written with ``switchboard new-tool billing apply_discount`` and then given the tool's own tables.
Adds tables and rows only: every existing row stays, and a data directory or database that
already holds the reference dataset gets the terms on upgrade (nothing is re-seeded).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Reference rows: how many months a retention discount runs on each plan (a real connector
# reads them from the billing system's offer rules).
TERMS = [
    {"plan_id": "NW-BASIC-2", "months": 6},
    {"plan_id": "NW-ESS-10", "months": 6},
    {"plan_id": "NW-EVR-30", "months": 12},
    {"plan_id": "NW-PLUS-60", "months": 12},
    {"plan_id": "NW-MAX-150", "months": 12},
    {"plan_id": "NW-GLOBAL-300", "months": 12},
]


def upgrade() -> None:
    terms = op.create_table(
        "discount_terms",
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    op.bulk_insert(terms, TERMS)
    op.create_table(
        "discounts",
        sa.Column("discount_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("monthly_fee_after_pence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("discount_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
