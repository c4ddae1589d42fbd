"""The network-signal log, reactions and outbox, defined once (revisions in ``migrations/``).

In PostgreSQL the signal tables share a schema with the conversations and the gateway, so the
outbox and reactions carry a ``signal_`` prefix there (``postgres_metadata``); in SQLite they
have a file of their own and keep the short names the shared outbox code uses.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations.types import Real, counter_column

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    metadata,
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

reactions = sa.Table(
    "reactions",
    metadata,
    sa.Column("event_id", sa.Text(), primary_key=True),
    sa.Column("rule", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), primary_key=True),
    sa.Column("signal_id", sa.Text()),
    sa.Column("customer_id", sa.Text()),
    sa.Column("outcome", sa.Text(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("audit_id", sa.Text()),
    sa.Column("at", Real, nullable=False),
)

signal_log = sa.Table(
    "signal_log",
    metadata,
    counter_column("seq"),
    sa.Column("received_at", Real, nullable=False),
    sa.Column("signal_id", sa.Text()),
    sa.Column("camara_type", sa.Text()),
    sa.Column("msisdn", sa.Text()),
    sa.Column("outcome", sa.Text(), nullable=False),
    sa.Column("code", sa.Text()),
    sa.Column("reason", sa.Text()),
    sa.Column("body_sha256", sa.Text(), nullable=False),
    sa.Column("remote", sa.Text()),
    sa.Column("event_id", sa.Text(), nullable=False),
    sqlite_autoincrement=True,
)

sa.Index(
    "signal_accepted_once",
    signal_log.c.signal_id,
    unique=True,
    sqlite_where=sa.text("outcome = 'accepted'"),
    postgresql_where=sa.text("outcome = 'accepted'"),
)


postgres_metadata = sa.MetaData()
signal_log.to_metadata(postgres_metadata)
outbox.to_metadata(postgres_metadata, name="signal_outbox")
reactions.to_metadata(postgres_metadata, name="signal_reactions")
for index in postgres_metadata.tables["signal_outbox"].indexes:
    index.name = sa.sql.quoted_name("signal_outbox_pending", None)
