"""Link codes and phone calls, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations.types import Real

metadata = sa.MetaData()

link_codes = sa.Table(
    "link_codes",
    metadata,
    sa.Column("code_hash", sa.Text(), primary_key=True),
    sa.Column("conversation_id", sa.Text(), nullable=False),
    sa.Column("expires_at", Real, nullable=False),
    sa.Column("used_at", Real),
)

sa.Index("link_codes_conversation", link_codes.c.conversation_id)

voice_call_info = sa.Table(
    "voice_call_info",
    metadata,
    sa.Column("call_sid", sa.Text(), primary_key=True),
    sa.Column("caller", sa.Text()),
    sa.Column("memory", sa.Text(), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("step", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("ended_at", Real),
)

sa.Index("voice_call_info_caller", voice_call_info.c.caller, voice_call_info.c.ended_at)

voice_calls = sa.Table(
    "voice_calls",
    metadata,
    sa.Column("call_sid", sa.Text(), primary_key=True),
    sa.Column("conversation_id", sa.Text()),
    sa.Column("link_attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("silences", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("started_at", Real, nullable=False),
)

voice_heard = sa.Table(
    "voice_heard",
    metadata,
    sa.Column("call_sid", sa.Text(), primary_key=True),
    sa.Column("seq", sa.Integer(), nullable=False),
)

voice_steps = sa.Table(
    "voice_steps",
    metadata,
    sa.Column("call_sid", sa.Text(), primary_key=True),
    sa.Column("step", sa.Integer(), primary_key=True),
    sa.Column("answer", sa.Text()),
    sa.Column("result", sa.Text()),
    sa.Column("at", Real, nullable=False),
)
