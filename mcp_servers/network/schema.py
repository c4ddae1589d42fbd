"""Network tables (keyed by msisdn): lines, SIMs and devices, area outages.

A recent SIM change and a current outage are live facts stored as an age (see ``_time``).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    msisdn TEXT PRIMARY KEY,
    iccid TEXT NOT NULL,
    sim_status TEXT NOT NULL,
    device_model TEXT NOT NULL,
    connectivity TEXT NOT NULL,
    roaming INTEGER NOT NULL,
    area TEXT NOT NULL,
    last_sim_change TEXT,
    sim_change_age_minutes INTEGER
);
CREATE TABLE IF NOT EXISTS outages (
    outage_id TEXT PRIMARY KEY,
    area TEXT NOT NULL,
    description TEXT NOT NULL,
    age_minutes INTEGER NOT NULL,
    active INTEGER NOT NULL
);
"""

# Live state reported by network signals (CAMARA notifications), applied by the network
# system's event consumer; a line without a row here is as the dataset describes it.
SIGNAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS line_signals (
    msisdn TEXT PRIMARY KEY,
    reachability TEXT,
    roaming INTEGER,
    country_code INTEGER,
    country_name TEXT,
    sim_swapped_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS qos_sessions (
    session_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    qos_profile TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
CREATE TABLE IF NOT EXISTS sim_blocks (
    msisdn TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    blocked_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
CREATE TABLE IF NOT EXISTS sim_orders (
    order_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    status TEXT NOT NULL,
    expected_delivery TEXT NOT NULL,
    ordered_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
"""
