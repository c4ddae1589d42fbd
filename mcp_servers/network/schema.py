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
