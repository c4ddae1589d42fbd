"""The network system's tables, defined once for SQLite and PostgreSQL (revisions in migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

from mcp_servers._tables import with_common
from shared.migrations.types import Real

metadata = with_common(sa.MetaData())

line_signals = sa.Table(
    "line_signals",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("reachability", sa.Text()),
    sa.Column("roaming", sa.Integer()),
    sa.Column("country_code", sa.Integer()),
    sa.Column("country_name", sa.Text()),
    sa.Column("sim_swapped_at", sa.Text()),
    sa.Column("updated_at", sa.Text(), nullable=False),
)

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("iccid", sa.Text(), nullable=False),
    sa.Column("sim_status", sa.Text(), nullable=False),
    sa.Column("device_model", sa.Text(), nullable=False),
    sa.Column("connectivity", sa.Text(), nullable=False),
    sa.Column("roaming", sa.Integer(), nullable=False),
    sa.Column("area", sa.Text(), nullable=False),
    sa.Column("last_sim_change", sa.Text()),
    sa.Column("sim_change_age_minutes", sa.Integer()),
)

outages = sa.Table(
    "outages",
    metadata,
    sa.Column("outage_id", sa.Text(), primary_key=True),
    sa.Column("area", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("age_minutes", sa.Integer(), nullable=False),
    sa.Column("active", sa.Integer(), nullable=False),
)

qos_sessions = sa.Table(
    "qos_sessions",
    metadata,
    sa.Column("session_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("qos_profile", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("started_at", sa.Text(), nullable=False),
    sa.Column("expires_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sim_blocks = sa.Table(
    "sim_blocks",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("blocked_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sim_orders = sa.Table(
    "sim_orders",
    metadata,
    sa.Column("order_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("expected_delivery", sa.Text(), nullable=False),
    sa.Column("ordered_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

roaming_settings = sa.Table(
    "roaming_settings",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("enabled", sa.Integer(), nullable=False),
    sa.Column("changed_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

roaming_rates = sa.Table(
    "roaming_rates",
    metadata,
    sa.Column("country", sa.Text(), primary_key=True),
    sa.Column("country_name", sa.Text(), nullable=False),
    sa.Column("zone", sa.Text(), nullable=False),
    sa.Column("daily_fee", Real, nullable=False),
    sa.Column("currency", sa.Text(), nullable=False),
)

line_locks = sa.Table(
    "line_locks",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("locked_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

porting_codes = sa.Table(
    "porting_codes",
    metadata,
    sa.Column("msisdn", sa.Text(), primary_key=True),
    sa.Column("code", sa.Text(), nullable=False),
    sa.Column("issued_at", sa.Text(), nullable=False),
    sa.Column("expires_on", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

sim_activations = sa.Table(
    "sim_activations",
    metadata,
    sa.Column("activation_id", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("sim_type", sa.Text(), nullable=False),
    sa.Column("order_id", sa.Text()),
    sa.Column("activated_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

outage_records = sa.Table(
    "outage_records",
    metadata,
    sa.Column("outage_id", sa.Text(), primary_key=True),
    sa.Column("area", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("age_minutes", sa.Integer(), nullable=False),
    sa.Column("lasted_hours", sa.Integer(), nullable=False),
    sa.Column("planned", sa.Integer(), nullable=False),
)

port_in_requests = sa.Table(
    "port_in_requests",
    metadata,
    sa.Column("reference", sa.Text(), primary_key=True),
    sa.Column("msisdn", sa.Text(), nullable=False),
    sa.Column("number", sa.Text(), nullable=False),
    sa.Column("donor", sa.Text(), nullable=False),
    sa.Column("port_date", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("requested_at", sa.Text(), nullable=False),
    sa.Column("agent", sa.Text()),
    sa.Column("audit_id", sa.Text()),
    sa.Column("conversation_id", sa.Text()),
)

donor_porting_codes = sa.Table(
    "donor_porting_codes",
    metadata,
    sa.Column("number", sa.Text(), primary_key=True),
    sa.Column("code", sa.Text(), nullable=False),
    sa.Column("donor", sa.Text(), nullable=False),
    sa.Column("age_days", sa.Integer(), nullable=False),
)
