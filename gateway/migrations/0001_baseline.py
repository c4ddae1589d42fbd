"""The gateway's tables as the first versioned release shipped them.

Every table is created only when missing, so a data directory or database written before
versioned migrations is adopted as it is. The audit chain is created in each dialect's exact
words: its append-only triggers, the check that a body names its own sequence number, and the
query columns computed from the body have no portable spelling, and the chain's hashes are
over the body alone, so nothing here can change what was hashed.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# The audit chain exactly as the gateway created it before versioned migrations.
_AUDIT_SQLITE = (
    """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    body TEXT NOT NULL CHECK (json_extract(body, '$.seq') = seq),
    hash TEXT NOT NULL,
    id TEXT GENERATED ALWAYS AS (json_extract(body, '$.id')) VIRTUAL,
    time TEXT GENERATED ALWAYS AS (json_extract(body, '$.time')) VIRTUAL,
    kind TEXT GENERATED ALWAYS AS (json_extract(body, '$.kind')) VIRTUAL,
    conversation_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.conversation_id')) VIRTUAL,
    trace_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.trace_id')) VIRTUAL,
    agent TEXT GENERATED ALWAYS AS (json_extract(body, '$.agent')) VIRTUAL,
    tool TEXT GENERATED ALWAYS AS (json_extract(body, '$.tool')) VIRTUAL,
    customer_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.customer_id')) VIRTUAL,
    decision TEXT GENERATED ALWAYS AS (json_extract(body, '$.decision')) VIRTUAL,
    reason TEXT GENERATED ALWAYS AS (json_extract(body, '$.reason')) VIRTUAL,
    outcome TEXT GENERATED ALWAYS AS (json_extract(body, '$.outcome')) VIRTUAL
)
""",
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_id ON audit (id)",
    "CREATE INDEX IF NOT EXISTS audit_conversation ON audit (conversation_id, seq)",
    "CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, seq)",
    """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused'); END
""",
    """
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused'); END
""",
    """
CREATE TABLE IF NOT EXISTS audit_raw (record_id TEXT PRIMARY KEY, customer_id TEXT, arguments TEXT NOT NULL)
""",
    "CREATE INDEX IF NOT EXISTS audit_raw_customer ON audit_raw (customer_id)",
)

_AUDIT_POSTGRESQL = (
    """
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    id TEXT GENERATED ALWAYS AS (body::jsonb ->> 'id') STORED,
    time TEXT GENERATED ALWAYS AS (body::jsonb ->> 'time') STORED,
    kind TEXT GENERATED ALWAYS AS (body::jsonb ->> 'kind') STORED,
    conversation_id TEXT GENERATED ALWAYS AS (body::jsonb ->> 'conversation_id') STORED,
    trace_id TEXT GENERATED ALWAYS AS (body::jsonb ->> 'trace_id') STORED,
    agent TEXT GENERATED ALWAYS AS (body::jsonb ->> 'agent') STORED,
    tool TEXT GENERATED ALWAYS AS (body::jsonb ->> 'tool') STORED,
    customer_id TEXT GENERATED ALWAYS AS (body::jsonb ->> 'customer_id') STORED,
    decision TEXT GENERATED ALWAYS AS (body::jsonb ->> 'decision') STORED,
    reason TEXT GENERATED ALWAYS AS (body::jsonb ->> 'reason') STORED,
    outcome TEXT GENERATED ALWAYS AS (body::jsonb ->> 'outcome') STORED,
    CONSTRAINT audit_body_seq CHECK ((body::jsonb ->> 'seq')::bigint = seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_id ON audit (id);
CREATE INDEX IF NOT EXISTS audit_conversation ON audit (conversation_id, seq);
CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, seq);
CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit records are append-only: % is refused', TG_OP; END $$;
CREATE OR REPLACE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE OR REPLACE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit EXECUTE FUNCTION audit_refuse();
CREATE TABLE IF NOT EXISTS audit_raw (record_id TEXT PRIMARY KEY, customer_id TEXT, arguments TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_raw_customer ON audit_raw (customer_id);
""",
)


def upgrade() -> None:
    for statement in _AUDIT_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _AUDIT_SQLITE:
        op.execute(statement)
    op.create_table(
        "applied_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        if_not_exists=True,
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("arguments_digest", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("policy_ids", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("request_audit_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("expires_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("notified", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "approvals_binding",
        "approvals",
        ["agent", "tool", "arguments_digest", "conversation_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index("approvals_status", "approvals", ["status"], unique=False, if_not_exists=True)
    op.create_table(
        "fraud_holds",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
        if_not_exists=True,
    )
    op.create_table(
        "kill_switches",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
        if_not_exists=True,
    )
    op.create_table(
        "policy_modes",
        sa.Column("policy_id", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.REAL().with_variant(sa.DOUBLE_PRECISION(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("policy_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("data is never migrated backwards: restore a backup taken before the upgrade")
