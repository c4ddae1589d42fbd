"""Payments tool outputs. Money is in pounds with two decimals; currency is GBP."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Charge(BaseModel):
    charge_id: str
    invoice_id: str
    amount: float
    currency: str
    charged_at: str
    card_last4: str
    status: str = Field(description="settled, partially_refunded or refunded")
    refunded_amount: float


class Charges(BaseModel):
    charges: list[Charge] = Field(description="newest first")


class DuplicateCharge(BaseModel):
    charge_id: str = Field(description="the later charge: the one to refund")
    duplicate_of: str
    invoice_id: str
    amount: float
    charged_at: str
    refundable_amount: float


class Duplicates(BaseModel):
    duplicates: list[DuplicateCharge] = Field(description="duplicates not yet fully refunded")


class Refund(BaseModel):
    refund_id: str
    charge_id: str
    amount: float
    currency: str = "GBP"
    status: str
    created_at: str
    reason: str = ""


class Refunds(BaseModel):
    refunds: list[Refund] = Field(description="newest first")
