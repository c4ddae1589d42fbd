"""CRM tool outputs."""

from __future__ import annotations

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
