"""Identity tables: the unified customer and its keys, one-time-code verifications, lock-outs."""

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS lockouts (
    customer_id TEXT PRIMARY KEY,
    locked_until REAL NOT NULL
);
"""
