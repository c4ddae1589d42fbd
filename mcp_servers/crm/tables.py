"""The CRM's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common

metadata = with_common(sa.MetaData())

customer_view = sa.Table(
    "customer_view",
    metadata,
    sa.Column("customer_id", sa.Text(), primary_key=True),
    sa.Column("doc", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.Text(), nullable=False),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("interaction_id", sa.Text(), primary_key=True),
    sa.Column("email", sa.Text(), sa.ForeignKey("profiles.email"), nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("started_at", sa.Text()),
    sa.Column("age_minutes", sa.Integer()),
    sa.Column("topic", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("outcome", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text()),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)

sa.Index("interactions_by_email", interactions.c.email)

offers_sent = sa.Table(
    "offers_sent",
    metadata,
    sa.Column("message_id", sa.Text(), primary_key=True),
    sa.Column("email", sa.Text(), sa.ForeignKey("profiles.email"), nullable=False),
    sa.Column("offer_id", sa.Text(), nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("sent_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("email", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("segment", sa.Text(), nullable=False),
    sa.Column("preferred_channel", sa.Text(), nullable=False),
    sa.Column("city", sa.Text(), nullable=False),
    sa.Column("customer_since", sa.Text(), nullable=False),
    sa.Column("plan_name", sa.Text(), nullable=False),
)

service_messages = sa.Table(
    "service_messages",
    metadata,
    sa.Column("message_id", sa.Text(), primary_key=True),
    sa.Column("email", sa.Text(), sa.ForeignKey("profiles.email"), nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("sent_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)
