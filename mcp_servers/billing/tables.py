"""The billing system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common

metadata = with_common(sa.MetaData())

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("plan_id", sa.Text(), sa.ForeignKey("plans.plan_id"), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("next_bill_date", sa.Text(), nullable=False),
    sa.Column("plan_updated_at", sa.Text(), nullable=False),
)

# The minimum term the customer signed up to; leaving before ends_on costs the exit fee for each
# month left (reference data: a real connector reads it from the contract system).
contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("msisdn", sa.Text(), sa.ForeignKey("accounts.msisdn"), primary_key=True),
    sa.Column("started_on", sa.Text(), nullable=False),
    sa.Column("term_months", sa.Integer(), nullable=False),
    sa.Column("ends_on", sa.Text(), nullable=False),
    sa.Column("exit_fee_per_month_pence", sa.Integer(), nullable=False),
    sa.Column("notice_days", sa.Integer(), nullable=False),
)

invoice_lines = sa.Table(
    "invoice_lines",
    metadata,
    sa.Column("invoice_id", sa.Text(), sa.ForeignKey("invoices.invoice_id"), primary_key=True),
    sa.Column("line_no", sa.Integer(), primary_key=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("amount_pence", sa.Integer(), nullable=False),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("invoice_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), sa.ForeignKey("accounts.msisdn"), nullable=False),
    sa.Column("period", sa.Text(), nullable=False),
    sa.Column("issued_on", sa.Text(), nullable=False),
    sa.Column("total_pence", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
)

sa.Index("invoices_by_msisdn", invoices.c.msisdn, invoices.c.issued_on)

plan_changes = sa.Table(
    "plan_changes",
    metadata,
    sa.Column("change_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("old_plan_id", sa.Text(), nullable=False),
    sa.Column("new_plan_id", sa.Text(), nullable=False),
    sa.Column("effective_from", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("monthly_fee_pence", sa.Integer(), nullable=False),
    sa.Column("data_gb", sa.Integer(), nullable=False),
    sa.Column("features", sa.Text(), nullable=False),
)

credits = sa.Table(
    "credits",
    metadata,
    sa.Column("credit_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("amount_pence", sa.Integer(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("reference", sa.Text(), nullable=False),
    sa.Column("applied_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
    sa.UniqueConstraint("msisdn", "reference", name="credits_once_per_reference"),
)

# Where the billing system sends invoices and notices: the billing contact on record.
billing_contacts = sa.Table(
    "billing_contacts",
    metadata,
    sa.Column("msisdn", sa.Text(), sa.ForeignKey("accounts.msisdn"), primary_key=True),
    sa.Column("email", sa.Text(), nullable=False),
)

# Each copy of an invoice sent on request: to whom, with which link, under which audit record.
invoice_copies = sa.Table(
    "invoice_copies",
    metadata,
    sa.Column("copy_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("invoice_id", sa.Text(), sa.ForeignKey("invoices.invoice_id"), nullable=False),
    sa.Column("sent_to", sa.Text(), nullable=False),
    sa.Column("link", sa.Text(), nullable=False),
    sa.Column("sent_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)

# An unpaid invoice spread over instalments (or paid once, later): at most one per invoice.
payment_arrangements = sa.Table(
    "payment_arrangements",
    metadata,
    sa.Column("arrangement_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("invoice_id", sa.Text(), sa.ForeignKey("invoices.invoice_id"), nullable=False, unique=True),
    sa.Column("amount_pence", sa.Integer(), nullable=False),
    sa.Column("instalments", sa.Integer(), nullable=False),
    sa.Column("first_due_on", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)

# An account closing at the end of its notice period (the account's status is then 'closing').
account_closures = sa.Table(
    "account_closures",
    metadata,
    sa.Column("closure_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), sa.ForeignKey("accounts.msisdn"), nullable=False, unique=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("requested_at", sa.Text(), nullable=False),
    sa.Column("closes_on", sa.Text(), nullable=False),
    sa.Column("exit_fee_pence", sa.Integer(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
)
