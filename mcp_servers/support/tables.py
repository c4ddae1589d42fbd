"""The support system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/).

Article search is each dialect's own full-text index (FTS5 in SQLite, a tsvector in
PostgreSQL); it has no portable definition, so the baseline revision creates it per dialect.
"""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common
from shared.migrations.types import counter_column

metadata = with_common(sa.MetaData())

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("article_id", sa.Text(), primary_key=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("steps", sa.Text(), nullable=False),
    sa.Column("tags", sa.Text(), nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("email", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    counter_column("seq"),
    sa.Column("handoff_id", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
    sa.Column("email", sa.Text()),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("priority", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.UniqueConstraint("handoff_id"),
    sqlite_autoincrement=True,
)

# Orders for devices, SIMs and accessories; dates are stored as ages (days from today).
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.Text(), primary_key=True),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column("item", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("ordered_days_ago", sa.Integer(), nullable=False),
    sa.Column("delivery_in_days", sa.Integer(), nullable=False),
    sa.Column("delivery_option", sa.Text(), nullable=False),
    sa.Column("tracking_id", sa.Text()),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sa.Index("orders_by_email", orders.c.email)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("ticket_id", sa.Text(), primary_key=True),
    sa.Column("email", sa.Text(), sa.ForeignKey("customers.email"), nullable=False),
    sa.Column("category", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("priority", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.Text(), nullable=False),
    sa.Column("repeat_of", sa.Text()),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sa.Index("tickets_by_email", tickets.c.email, tickets.c.opened_at)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("item_id", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("price_pence", sa.Integer(), nullable=False),
    sa.Column("in_stock", sa.Integer(), nullable=False),
)
