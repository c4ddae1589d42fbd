"""Payments tables (keyed by account number). Amounts are integer pence."""

from mcp_servers.payments.methods import SCHEMA as METHODS

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS accounts (
    account_number TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    card_last4 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
    charge_id TEXT PRIMARY KEY,
    account_number TEXT NOT NULL REFERENCES accounts(account_number),
    invoice_id TEXT NOT NULL,
    amount_pence INTEGER NOT NULL,
    currency TEXT NOT NULL,
    charged_at TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    refunded_pence INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS charges_by_account ON charges(account_number, charged_at);
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY,
    account_number TEXT NOT NULL,
    charge_id TEXT NOT NULL REFERENCES charges(charge_id),
    amount_pence INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
CREATE INDEX IF NOT EXISTS refunds_by_account ON refunds(account_number);
-- Charges the card processor or back office flagged as taken in error (refundable without a human).
CREATE TABLE IF NOT EXISTS charge_flags (
    charge_id TEXT PRIMARY KEY REFERENCES charges(charge_id),
    reason TEXT NOT NULL,
    flagged_at TEXT NOT NULL
);
"""
    + METHODS
)
