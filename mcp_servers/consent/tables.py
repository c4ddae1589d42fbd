"""The consent system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common

metadata = with_common(sa.MetaData())

consent_history = sa.Table(
    "consent_history",
    metadata,
    sa.Column("customer_id", sa.Text(), nullable=False),
    sa.Column("purpose", sa.Text(), nullable=False),
    sa.Column("granted", sa.Integer(), nullable=False),
    sa.Column("changed_at", sa.Text(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("audit_id", sa.Text()),
)

sa.Index("consent_history_by_customer", consent_history.c.customer_id)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("customer_id", sa.Text(), primary_key=True),
    sa.Column("purpose", sa.Text(), primary_key=True),
    sa.Column("granted", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.Text(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
)
