"""Invoice copies: the billing contact on record and every copy sent to it.

A data directory upgraded from an earlier release gets both tables empty: its accounts have no
billing contact on record yet, so a copy is refused with that reason rather than sent anywhere
else; a fresh seed writes each account's billing contact.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_contacts",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["msisdn"], ["accounts.msisdn"]),
        sa.PrimaryKeyConstraint("msisdn"),
    )
    op.create_table(
        "invoice_copies",
        sa.Column("copy_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("sent_to", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.invoice_id"]),
        sa.PrimaryKeyConstraint("copy_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
