"""CRM tables (keyed by email). ``plan_name`` is the CRM's own copy and lags billing on purpose."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    segment TEXT NOT NULL,
    preferred_channel TEXT NOT NULL,
    city TEXT NOT NULL,
    customer_since TEXT NOT NULL,
    plan_name TEXT NOT NULL
);
-- started_at is set for history and for conversations logged at run time;
-- age_minutes is set instead for seeded live conversations (rendered relative to now).
CREATE TABLE IF NOT EXISTS interactions (
    interaction_id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES profiles(email),
    channel TEXT NOT NULL,
    started_at TEXT,
    age_minutes INTEGER,
    topic TEXT NOT NULL,
    summary TEXT NOT NULL,
    outcome TEXT NOT NULL,
    conversation_id TEXT,
    agent TEXT,
    audit_id TEXT
);
CREATE INDEX IF NOT EXISTS interactions_by_email ON interactions(email);
-- Marketing offers sent (the outreach tool); the governance gateway decides who may get one.
CREATE TABLE IF NOT EXISTS offers_sent (
    message_id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES profiles(email),
    offer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT
);
-- Proactive service messages (an outage notice); governed like every action.
CREATE TABLE IF NOT EXISTS service_messages (
    message_id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES profiles(email),
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
"""
