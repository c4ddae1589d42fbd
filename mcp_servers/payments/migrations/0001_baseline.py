"""The payments system's tables as the first versioned release shipped them.

Every table is created only when missing, so a data directory or database written before
versioned migrations is adopted as it is.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("card_last4", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_number"),
        if_not_exists=True,
    )
    op.create_table(
        "applied_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        if_not_exists=True,
    )
    op.create_table(
        "idempotency",
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("args_digest", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tool", "key"),
        if_not_exists=True,
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False
        ),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("published_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index(
        "outbox_pending",
        "outbox",
        ["seq"],
        unique=False,
        if_not_exists=True,
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "charges",
        sa.Column("charge_id", sa.Text(), nullable=False),
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("charged_at", sa.Text(), nullable=False),
        sa.Column("card_last4", sa.Text(), nullable=False),
        sa.Column("refunded_pence", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_number"],
            ["accounts.account_number"],
        ),
        sa.PrimaryKeyConstraint("charge_id"),
        if_not_exists=True,
    )
    op.create_index("charges_by_account", "charges", ["account_number", "charged_at"], unique=False, if_not_exists=True)
    op.create_table(
        "charge_flags",
        sa.Column("charge_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["charges.charge_id"],
        ),
        sa.PrimaryKeyConstraint("charge_id"),
        if_not_exists=True,
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("charge_id", sa.Text(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["charges.charge_id"],
        ),
        sa.PrimaryKeyConstraint("refund_id"),
        if_not_exists=True,
    )
    op.create_index("refunds_by_account", "refunds", ["account_number"], unique=False, if_not_exists=True)


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
