"""Consent tables (keyed by the unified customer id). One row per customer and purpose."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS consents (
    customer_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (customer_id, purpose)
);
-- Every change is kept: a consent registry must show when and by whom consent changed.
CREATE TABLE IF NOT EXISTS consent_history (
    customer_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    source TEXT NOT NULL,
    audit_id TEXT
);
CREATE INDEX IF NOT EXISTS consent_history_by_customer ON consent_history(customer_id);
"""
