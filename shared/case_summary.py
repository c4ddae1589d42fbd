"""The structured hand-off summary: the first thing a person reads when they open an escalated case.

Every field is in plain words for staff: plan names rather than plan ids, amounts with their
currency, each line once. The orchestrator builds it from what the conversation recorded (its
hand-offs, governed calls, the actions specialists reported, the signed identity claims) and the
gateway's pending approvals; it is part of the case packet and of the console's case API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Sentiment = Literal["calm", "frustrated", "angry", "distressed"]
ActionOutcome = Literal["done", "waiting", "refused", "failed"]


class ActionTaken(BaseModel):
    """Something the AI did (or tried) for the customer, with the reference a person can look up."""

    at: float
    agent: str
    what: str = Field(description="in plain words, e.g. 'Refunded £42.00 for a duplicate charge'")
    reference: str | None = Field(default=None, description="refund, ticket, order or approval reference")
    outcome: ActionOutcome = "done"


class IdentityCheck(BaseModel):
    """Whether and how the customer proved who they are."""

    verified: bool
    level: str | None = Field(default=None, description="assurance level, e.g. AAL2")
    how: str | None = Field(default=None, description="e.g. 'one-time code sent by text message'")


class CaseSummary(BaseModel):
    customer_wanted: list[str] = Field(default_factory=list, description="each request once, in order")
    identity: IdentityCheck
    actions: list[ActionTaken] = Field(default_factory=list, description="oldest first, each once")
    open_items: list[str] = Field(default_factory=list, description="what is not finished yet")
    sentiment: Sentiment = "calm"
    sentiment_cues: list[str] = Field(default_factory=list, description="the customer's words that set it")
    urgent_because: list[str] = Field(default_factory=list)
    suggested_next_step: str
