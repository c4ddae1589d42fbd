"""Link codes and phone calls as the first versioned release shipped them.

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
        "link_codes",
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("used_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
        if_not_exists=True,
    )
    op.create_index("link_codes_conversation", "link_codes", ["conversation_id"], unique=False, if_not_exists=True)
    op.create_table(
        "voice_call_info",
        sa.Column("call_sid", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=True),
        sa.Column("memory", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("step", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("ended_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=True),
        sa.PrimaryKeyConstraint("call_sid"),
        if_not_exists=True,
    )
    op.create_index(
        "voice_call_info_caller", "voice_call_info", ["caller", "ended_at"], unique=False, if_not_exists=True
    )
    op.create_table(
        "voice_calls",
        sa.Column("call_sid", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("link_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("silences", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("call_sid"),
        if_not_exists=True,
    )
    op.create_table(
        "voice_heard",
        sa.Column("call_sid", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("call_sid"),
        if_not_exists=True,
    )
    op.create_table(
        "voice_steps",
        sa.Column("call_sid", sa.Text(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("call_sid", "step"),
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
