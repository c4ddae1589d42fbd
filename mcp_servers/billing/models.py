"""Billing tool outputs. Money is in pounds (GBP) with two decimals."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Account(BaseModel):
    msisdn: str
    plan_id: str
    plan_name: str
    monthly_fee: float
    status: str
    balance_due: float
    next_bill_date: str


class InvoiceLine(BaseModel):
    description: str
    amount: float


class Invoice(BaseModel):
    invoice_id: str
    period: str
    issued_on: str
    total: float
    status: str
    lines: list[InvoiceLine]


class Invoices(BaseModel):
    invoices: list[Invoice] = Field(description="newest first")


class Plan(BaseModel):
    plan_id: str
    name: str
    monthly_fee: float
    data_gb: int
    features: list[str]


class Plans(BaseModel):
    plans: list[Plan]


class Entitlements(BaseModel):
    msisdn: str
    plan_id: str
    plan_name: str
    features: list[str]
    data_gb: int
    updated_at: str = Field(description="when the plan last changed; billing is the source of truth")


class PlanChange(BaseModel):
    old_plan_id: str
    new_plan_id: str
    effective_from: str


class Contract(BaseModel):
    """The minimum term and what leaving early costs (a quote: nothing is cancelled)."""

    msisdn: str
    plan_name: str
    started_on: str
    term_months: int
    ends_on: str = Field(description="last day of the minimum term (YYYY-MM-DD)")
    in_minimum_term: bool
    months_remaining: int = Field(description="whole or part months left in the minimum term")
    early_exit_fee: float = Field(description="pounds to leave today: months_remaining x exit_fee_per_month")
    exit_fee_per_month: float
    notice_days: int = Field(description="notice needed to leave, in or out of the minimum term")
    currency: str = "GBP"
