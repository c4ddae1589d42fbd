"""Consent tool outputs."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ConsentRecord(BaseModel):
    purpose: str
    granted: bool
    updated_at: str
    source: str = Field(description="who recorded it: dataset, or the agent that changed it")


class Consents(BaseModel):
    customer_id: str
    purposes: list[str] = Field(description="the purposes currently granted, sorted")
    records: list[ConsentRecord]


class GrantedPurposes(BaseModel):
    """Only what policy reads: flat, so the gateway's per-call read stays cheap to check and send."""

    customer_id: str
    purposes: list[str] = Field(description="the purposes currently granted, sorted")


class ConsentChange(BaseModel):
    customer_id: str
    purpose: str
    granted: bool
    changed: bool = Field(description="false when the consent already had this value")
