"""Billing tables (keyed by msisdn). Billing is the source of truth for plans and features."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    plan_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    monthly_fee_pence INTEGER NOT NULL,
    data_gb INTEGER NOT NULL,
    features TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    msisdn TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(plan_id),
    status TEXT NOT NULL,
    next_bill_date TEXT NOT NULL,
    plan_updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
    invoice_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL REFERENCES accounts(msisdn),
    period TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    total_pence INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS invoices_by_msisdn ON invoices(msisdn, issued_on);
CREATE TABLE IF NOT EXISTS invoice_lines (
    invoice_id TEXT NOT NULL REFERENCES invoices(invoice_id),
    line_no INTEGER NOT NULL,
    description TEXT NOT NULL,
    amount_pence INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
-- The minimum term the customer signed up to; leaving before ends_on costs the exit fee for
-- each month left (reference data: a real connector reads it from the contract system).
CREATE TABLE IF NOT EXISTS contracts (
    msisdn TEXT PRIMARY KEY REFERENCES accounts(msisdn),
    started_on TEXT NOT NULL,
    term_months INTEGER NOT NULL,
    ends_on TEXT NOT NULL,
    exit_fee_per_month_pence INTEGER NOT NULL,
    notice_days INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_changes (
    change_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    old_plan_id TEXT NOT NULL,
    new_plan_id TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
"""
