"""The identity system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common
from shared.migrations.types import Real

metadata = with_common(sa.MetaData())

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.Text(), primary_key=True),
    sa.Column("first_name", sa.Text(), nullable=False),
    sa.Column("full_name", sa.Text(), nullable=False),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("account_number", sa.Text(), nullable=False),
    sa.UniqueConstraint("email"),
    sa.UniqueConstraint("msisdn"),
    sa.UniqueConstraint("account_number"),
)

lockouts = sa.Table(
    "lockouts",
    metadata,
    sa.Column("customer_id", sa.Text(), primary_key=True),
    sa.Column("locked_until", Real, nullable=False),
)

otp_challenges = sa.Table(
    "otp_challenges",
    metadata,
    sa.Column("verification_id", sa.Text(), primary_key=True),
    sa.Column("id_key", sa.Text(), nullable=False),
    sa.Column("customer_id", sa.Text()),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("code_hash", sa.Text()),
    sa.Column("expires_at", Real, nullable=False),
    sa.Column("attempts_left", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
)

# Links for setting a password or finishing online registration; only a keyed hash of the token.
sign_in_links = sa.Table(
    "sign_in_links",
    metadata,
    sa.Column("link_id", sa.Text(), primary_key=True),
    sa.Column("customer_id", sa.Text(), sa.ForeignKey("customers.customer_id"), nullable=False),
    sa.Column("purpose", sa.Text(), nullable=False),
    sa.Column("token_hash", sa.Text(), nullable=False),
    sa.Column("expires_at", Real, nullable=False),
    sa.Column("conversation_id", sa.Text()),
)

# Where SIMs, letters and deliveries go; identity holds it with the other contact details.
postal_addresses = sa.Table(
    "postal_addresses",
    metadata,
    sa.Column("customer_id", sa.Text(), sa.ForeignKey("customers.customer_id"), primary_key=True),
    sa.Column("line1", sa.Text(), nullable=False),
    sa.Column("line2", sa.Text()),
    sa.Column("town", sa.Text(), nullable=False),
    sa.Column("postcode", sa.Text(), nullable=False),
    sa.Column("changed_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

signals_seen = sa.Table(
    "signals_seen",
    metadata,
    sa.Column("signal_id", sa.Text(), primary_key=True),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("customer_id", sa.Text(), sa.ForeignKey("customers.customer_id"), nullable=False),
    sa.Column("occurred_at", sa.Text(), nullable=False),
)

step_ups = sa.Table(
    "step_ups",
    metadata,
    sa.Column("customer_id", sa.Text(), sa.ForeignKey("customers.customer_id"), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("signal_id", sa.Text(), nullable=False),
    sa.Column("since", sa.Text(), nullable=False),
)

verifications = sa.Table(
    "verifications",
    metadata,
    sa.Column("verification_id", sa.Text(), primary_key=True),
    sa.Column("customer_id", sa.Text(), sa.ForeignKey("customers.customer_id"), nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),
    sa.Column("code_hash", sa.Text(), nullable=False),
    sa.Column("expires_at", Real, nullable=False),
    sa.Column("attempts_left", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
)

verify_limits = sa.Table(
    "verify_limits",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("sends", sa.Integer(), nullable=False),
    sa.Column("since", Real, nullable=False),
    sa.Column("locked_until", Real, nullable=False),
)
