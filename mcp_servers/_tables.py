"""Tables every reference system has beside its own: idempotency keys, the event outbox, applied events."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations.types import Real, counter_column

common = sa.MetaData()

applied_events = sa.Table(
    "applied_events",
    common,
    sa.Column("event_id", sa.Text(), primary_key=True),
    sa.Column("applied_at", Real, nullable=False),
)

idempotency = sa.Table(
    "idempotency",
    common,
    sa.Column("tool", sa.Text(), primary_key=True),
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("args_digest", sa.Text(), nullable=False),
    sa.Column("result", sa.Text(), nullable=False),
)

outbox = sa.Table(
    "outbox",
    common,
    counter_column("seq"),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", Real, nullable=False),
    sa.Column("published_at", Real),
    sa.UniqueConstraint("event_id"),
    sqlite_autoincrement=True,
)

sa.Index(
    "outbox_pending",
    outbox.c.seq,
    sqlite_where=sa.text("published_at IS NULL"),
    postgresql_where=sa.text("published_at IS NULL"),
)


def with_common(metadata: sa.MetaData) -> sa.MetaData:
    """``metadata`` plus the tables every system has (copied: each system's schema holds its own)."""
    for table in common.tables.values():
        table.to_metadata(metadata)
    return metadata
