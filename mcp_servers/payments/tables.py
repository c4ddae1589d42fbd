"""The payments system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common

metadata = with_common(sa.MetaData())

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_number", sa.Text(), primary_key=True),
    sa.Column("currency", sa.Text(), nullable=False),
    sa.Column("card_last4", sa.Text(), nullable=False),
)

charge_flags = sa.Table(
    "charge_flags",
    metadata,
    sa.Column("charge_id", sa.Text(), sa.ForeignKey("charges.charge_id"), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("flagged_at", sa.Text(), nullable=False),
)

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("charge_id", sa.Text(), primary_key=True),
    sa.Column("account_number", sa.Text(), sa.ForeignKey("accounts.account_number"), nullable=False),
    sa.Column("invoice_id", sa.Text(), nullable=False),
    sa.Column("amount_pence", sa.Integer(), nullable=False),
    sa.Column("currency", sa.Text(), nullable=False),
    sa.Column("charged_at", sa.Text(), nullable=False),
    sa.Column("card_last4", sa.Text(), nullable=False),
    sa.Column("refunded_pence", sa.Integer(), nullable=False, server_default=sa.text("0")),
)

sa.Index("charges_by_account", charges.c.account_number, charges.c.charged_at)
# The earliest charge of an invoice is its payment, every later one a duplicate.
sa.Index("charges_by_invoice", charges.c.invoice_id, charges.c.charged_at)

# The card on file and autopay; card numbers never pass through a conversation.
payment_methods = sa.Table(
    "payment_methods",
    metadata,
    sa.Column("account_number", sa.Text(), primary_key=True),
    sa.Column("card_last4", sa.Text(), nullable=False),
    sa.Column("card_expiry", sa.Text(), nullable=False),
    sa.Column("autopay", sa.Integer(), nullable=False),
    sa.Column("updated_by", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("refund_id", sa.Text(), primary_key=True),
    sa.Column("account_number", sa.Text(), nullable=False),
    sa.Column("charge_id", sa.Text(), sa.ForeignKey("charges.charge_id"), nullable=False),
    sa.Column("amount_pence", sa.Integer(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sa.Index("refunds_by_account", refunds.c.account_number)
