"""The network-signal log, reactions and outbox as the first versioned release shipped them.

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
    # PostgreSQL keeps these beside other stores' tables, hence the prefixed names there.
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "signal_log",
            sa.Column(
                "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False
            ),
            sa.Column("received_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
            sa.Column("signal_id", sa.Text(), nullable=True),
            sa.Column("camara_type", sa.Text(), nullable=True),
            sa.Column("msisdn", sa.Text(), nullable=True),
            sa.Column("outcome", sa.Text(), nullable=False),
            sa.Column("code", sa.Text(), nullable=True),
            sa.Column("reason", sa.Text(), nullable=True),
            sa.Column("body_sha256", sa.Text(), nullable=False),
            sa.Column("remote", sa.Text(), nullable=True),
            sa.Column("event_id", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sqlite_autoincrement=True,
            if_not_exists=True,
        )
        op.create_index(
            "signal_accepted_once",
            "signal_log",
            ["signal_id"],
            unique=True,
            if_not_exists=True,
            sqlite_where=sa.text("outcome = 'accepted'"),
            postgresql_where=sa.text("outcome = 'accepted'"),
        )
        op.create_table(
            "signal_outbox",
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
            "signal_outbox_pending",
            "signal_outbox",
            ["seq"],
            unique=False,
            if_not_exists=True,
            sqlite_where=sa.text("published_at IS NULL"),
            postgresql_where=sa.text("published_at IS NULL"),
        )
        op.create_table(
            "signal_reactions",
            sa.Column("event_id", sa.Text(), nullable=False),
            sa.Column("rule", sa.Text(), nullable=False),
            sa.Column("action", sa.Text(), nullable=False),
            sa.Column("signal_id", sa.Text(), nullable=True),
            sa.Column("customer_id", sa.Text(), nullable=True),
            sa.Column("outcome", sa.Text(), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("audit_id", sa.Text(), nullable=True),
            sa.Column("at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
            sa.PrimaryKeyConstraint("event_id", "action"),
            if_not_exists=True,
        )
        return
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
        "reactions",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("signal_id", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "action"),
        if_not_exists=True,
    )
    op.create_table(
        "signal_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False
        ),
        sa.Column("received_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("signal_id", sa.Text(), nullable=True),
        sa.Column("camara_type", sa.Text(), nullable=True),
        sa.Column("msisdn", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("body_sha256", sa.Text(), nullable=False),
        sa.Column("remote", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )
    op.create_index(
        "signal_accepted_once",
        "signal_log",
        ["signal_id"],
        unique=True,
        if_not_exists=True,
        sqlite_where=sa.text("outcome = 'accepted'"),
        postgresql_where=sa.text("outcome = 'accepted'"),
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
