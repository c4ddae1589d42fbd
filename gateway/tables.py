"""The gateway's tables: the audit chain, its controls and approvals, defined once (revisions in ``migrations/``).

The audit table holds each record's canonical JSON body and hash exactly as the chain hashes
them; its query columns are computed from the body (never written separately), and the
append-only triggers and the body/seq check are created per dialect by the baseline revision.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.audit_columns import QUERY_COLUMNS
from shared.migrations.types import Real, json_text

metadata = sa.MetaData()

applied_events = sa.Table(
    "applied_events",
    metadata,
    sa.Column("event_id", sa.Text(), primary_key=True),
    sa.Column("applied_at", Real, nullable=False),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text(), nullable=False),
    sa.Column("tool", sa.Text(), nullable=False),
    sa.Column("arguments", sa.Text(), nullable=False),
    sa.Column("arguments_digest", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
    sa.Column("customer_id", sa.Text()),
    sa.Column("envelope", sa.Text(), nullable=False),
    sa.Column("policy_ids", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("request_audit_id", sa.Text(), nullable=False),
    sa.Column("created_at", Real, nullable=False),
    sa.Column("expires_at", Real, nullable=False),
    sa.Column("decided_by", sa.Text()),
    sa.Column("decided_at", Real),
    sa.Column("note", sa.Text()),
    sa.Column("result", sa.Text()),
    sa.Column("outcome", sa.Text()),
    sa.Column("notified", sa.Integer(), nullable=False, server_default=sa.text("0")),
)

sa.Index(
    "approvals_binding", approvals.c.agent, approvals.c.tool, approvals.c.arguments_digest, approvals.c.conversation_id
)

sa.Index("approvals_status", approvals.c.status)

fraud_holds = sa.Table(
    "fraud_holds",
    metadata,
    sa.Column("customer_id", sa.Text(), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("set_by", sa.Text(), nullable=False),
    sa.Column("set_at", Real, nullable=False),
)

kill_switches = sa.Table(
    "kill_switches",
    metadata,
    sa.Column("scope", sa.Text(), primary_key=True),
    sa.Column("set_by", sa.Text(), nullable=False),
    sa.Column("set_at", Real, nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
)

policy_modes = sa.Table(
    "policy_modes",
    metadata,
    sa.Column("policy_id", sa.Text(), primary_key=True),
    sa.Column("mode", sa.Text(), nullable=False),
    sa.Column("set_by", sa.Text(), nullable=False),
    sa.Column("set_at", Real, nullable=False),
)


audit = sa.Table(
    "audit",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("hash", sa.Text(), nullable=False),
    *(sa.Column(name, sa.Text(), sa.Computed(json_text("body", name))) for name in QUERY_COLUMNS),
)

sa.Index("audit_id", audit.c.id, unique=True)
sa.Index("audit_conversation", audit.c.conversation_id, audit.c.seq)
sa.Index("audit_agent", audit.c.agent, audit.c.seq)

# Raw arguments, outside the hash chain: erasable per customer without breaking a hash.
audit_raw = sa.Table(
    "audit_raw",
    metadata,
    sa.Column("record_id", sa.Text(), primary_key=True),
    sa.Column("customer_id", sa.Text()),
    sa.Column("arguments", sa.Text(), nullable=False),
)

sa.Index("audit_raw_customer", audit_raw.c.customer_id)

# Weakened controls (log-only, a lifted hold, a switch off): requested by one person, approved by
# a second, and restored by the gateway when they expire (``gateway.weakening``).
control_changes = sa.Table(
    "control_changes",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("minutes", sa.Integer(), nullable=False),
    sa.Column("requested_by", sa.Text(), nullable=False),
    sa.Column("requested_at", Real, nullable=False),
    sa.Column("approved_by", sa.Text()),
    sa.Column("approved_at", Real),
    sa.Column("expires_at", Real, nullable=False),
)

sa.Index("control_changes_status", control_changes.c.status)
