"""CRM tool outputs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Profile(BaseModel):
    name: str
    email: str
    segment: str
    preferred_channel: str
    city: str
    customer_since: str
    plan_name: str = Field(description="the CRM's copy; may lag billing, which is the source of truth")


class Interaction(BaseModel):
    interaction_id: str
    channel: str
    started_at: str
    topic: str
    summary: str
    outcome: str
    conversation_id: str | None = None


class Interactions(BaseModel):
    interactions: list[Interaction] = Field(description="newest first")


class LoggedInteraction(BaseModel):
    interaction_id: str


class SentOffer(BaseModel):
    message_id: str
    offer_id: str
    channel: str
    sent_at: str


class ServiceMessage(BaseModel):
    message_id: str
    channel: str
    sent_at: str


class LastEvent(BaseModel):
    id: str
    type: str
    time: float = Field(description="when the change happened (epoch seconds)")
    applied_at: float = Field(description="when this view showed it (epoch seconds)")


class CustomerView(BaseModel):
    """What every system has reported about the customer since Switchboard started listening.

    A null field means no change was reported yet: ask the source system (billing for the plan).
    """

    customer_id: str
    keys: dict[str, str] = {}
    plan: dict[str, Any] | None = None
    latest_invoice: dict[str, Any] | None = None
    latest_payment: dict[str, Any] | None = None
    latest_refund: dict[str, Any] | None = None
    open_tickets: list[dict[str, Any]] = []
    consents: dict[str, bool] = {}
    network: dict[str, Any] = {}
    contact: dict[str, Any] | None = Field(
        default=None, description="email, msisdn and postal address as identity, their system of record, last told"
    )
    as_of: dict[str, float] = Field(default={}, description="per field, when its latest change happened")
    last_event: LastEvent | None = None
    feeds: dict[str, float | None] = Field(
        default={}, description="per source system, seconds this view may be behind it (null: not measured yet)"
    )
    behind: list[str] = Field(
        default=[],
        description="sources this view may be more than a second behind: read their facts from the system itself",
    )
