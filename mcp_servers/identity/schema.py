"""Identity tables: the unified customer and its keys, one-time-code verifications, lock-outs."""

from mcp_servers.identity.limits import SCHEMA as _LIMITS

SCHEMA = (
    _LIMITS
    + """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    msisdn TEXT NOT NULL UNIQUE,
    account_number TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS verifications (
    verification_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    channel TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at REAL NOT NULL,
    attempts_left INTEGER NOT NULL,
    status TEXT NOT NULL,
    conversation_id TEXT NOT NULL
);
-- Links for setting a password or finishing online registration; only a keyed hash of the token.
CREATE TABLE IF NOT EXISTS sign_in_links (
    link_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at REAL NOT NULL,
    conversation_id TEXT
);
CREATE TABLE IF NOT EXISTS lockouts (
    customer_id TEXT PRIMARY KEY,
    locked_until REAL NOT NULL
);
-- One-time-code challenges. customer_id is NULL for an identifier that matches no customer:
-- the caller gets the same answers as for a real one, and no code is ever sent or can match.
CREATE TABLE IF NOT EXISTS otp_challenges (
    verification_id TEXT PRIMARY KEY,
    id_key TEXT NOT NULL,
    customer_id TEXT,
    channel TEXT NOT NULL,
    code_hash TEXT,
    expires_at REAL NOT NULL,
    attempts_left INTEGER NOT NULL,
    status TEXT NOT NULL,
    conversation_id TEXT NOT NULL
);
-- Network signals the identity system heard of (CAMARA notifications, by their event id).
CREATE TABLE IF NOT EXISTS signals_seen (
    signal_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    occurred_at TEXT NOT NULL
);
-- After a SIM swap a text message no longer proves who holds the number: the customer's next
-- verification must go through another channel (step-up); a success clears the row.
CREATE TABLE IF NOT EXISTS step_ups (
    customer_id TEXT PRIMARY KEY REFERENCES customers(customer_id),
    reason TEXT NOT NULL,
    signal_id TEXT NOT NULL,
    since TEXT NOT NULL
);
"""
)
