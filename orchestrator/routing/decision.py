"""What a brain decides about one customer turn."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RouteAlternative(BaseModel):
    """One candidate skill and how well the message fits it (0..1)."""

    agent: str
    skill: str
    score: float = Field(ge=0.0, le=1.0)


class RouteDecision(BaseModel):
    """Which specialist and skill should own the customer's goal, and how sure the brain is.

    ``agent``/``skill`` are None only when there was nothing to route (an empty message). Below
    the route threshold the supervisor asks a clarifying question, offering the top
    ``alternatives`` (best first, the chosen skill included).
    """

    agent: str | None
    skill: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(description="short explanation for the trace")
    alternatives: list[RouteAlternative] = Field(default_factory=list, max_length=3)
    brain: str = Field(default="offline", description="which brain decided: offline, or llm:<model>")
    slots: dict[str, str] = Field(default_factory=dict, description="details the LLM router extracted")
    usage: dict[str, Any] = Field(default_factory=dict, description="model tokens and cost of this decision")
