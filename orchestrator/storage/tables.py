"""Conversations and their transcripts, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations.types import Json, Real

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("token_hash", sa.Text(), nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Column("customer_id", sa.Text()),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("updated_at", Real, nullable=False),
    sa.Column(
        "version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, server_default=sa.text("0")
    ),
)

sa.Index("conversations_customer", conversations.c.customer_id, conversations.c.updated_at)

sa.Index("conversations_status", conversations.c.status, conversations.c.updated_at)

transcript = sa.Table(
    "transcript",
    metadata,
    sa.Column("conversation_id", sa.Text(), sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("entry", Json, nullable=False),
)
