"""Staff console sessions (PostgreSQL only: in SQLite deployments they live in memory)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations.types import Real

metadata = sa.MetaData()

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),
    sa.Column("csrf_token", sa.Text(), nullable=False),
    sa.Column("expires_at", Real, nullable=False),
)

sa.Index("console_sessions_expiry", console_sessions.c.expires_at)
