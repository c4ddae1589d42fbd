"""The network system's tables as the first versioned release shipped them.

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
        "line_signals",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("reachability", sa.Text(), nullable=True),
        sa.Column("roaming", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.Integer(), nullable=True),
        sa.Column("country_name", sa.Text(), nullable=True),
        sa.Column("sim_swapped_at", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("msisdn"),
        if_not_exists=True,
    )
    op.create_table(
        "lines",
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("iccid", sa.Text(), nullable=False),
        sa.Column("sim_status", sa.Text(), nullable=False),
        sa.Column("device_model", sa.Text(), nullable=False),
        sa.Column("connectivity", sa.Text(), nullable=False),
        sa.Column("roaming", sa.Integer(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("last_sim_change", sa.Text(), nullable=True),
        sa.Column("sim_change_age_minutes", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("msisdn"),
        if_not_exists=True,
    )
    op.create_table(
        "outages",
        sa.Column("outage_id", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("age_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("outage_id"),
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
        "qos_sessions",
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("msisdn", sa.Text(), nullable=False),
        sa.Column("qos_profile", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
