"""What a brain decides about one customer turn."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, Field


class RouteAlternative(BaseModel):
    """One candidate skill and how well the message fits it (0..1)."""

    agent: str
    skill: str
    score: float = Field(ge=0.0, le=1.0)


# What kind of message a decision is about: a goal a skill owns, or one of the kinds no skill owns.
Intent = Literal["skill", "small-talk", "out-of-scope", "unclear", "other-language"]
SKILL: Final = "skill"
SMALL_TALK: Final = "small-talk"
OUT_OF_SCOPE: Final = "out-of-scope"
UNCLEAR: Final = "unclear"
OTHER_LANGUAGE: Final = "other-language"


class RouteDecision(BaseModel):
    """Which specialist and skill should own the customer's goal, and how sure the brain is.

    ``agent``/``skill`` are set only when ``intent`` is ``skill``; for small talk, a request no
    specialist handles, a goal not said yet or a language not served they are None, and
    ``confidence`` is how sure the brain is of that ``intent``. Below the route threshold the
    supervisor asks a clarifying question, offering the top ``alternatives`` (best first).
    ``then`` is a second request in the same message, to take up after the first.
    """

    agent: str | None
    skill: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(description="short explanation for the trace")
    alternatives: list[RouteAlternative] = Field(default_factory=list, max_length=3)
    brain: str = Field(default="offline", description="which brain decided: offline, or llm:<model>")
    slots: dict[str, str] = Field(default_factory=dict, description="details the LLM router extracted")
    usage: dict[str, Any] = Field(default_factory=dict, description="model tokens and cost of this decision")
    intent: Intent = SKILL
    language: str | None = Field(default=None, description="detected language code, when not English")
    then: RouteAlternative | None = Field(default=None, description="a second request in the same message")
    parts: list[str] = Field(
        default_factory=list, max_length=2, description="with ``then``: the words of the first and second request"
    )

    def routes(self, threshold: float) -> bool:
        """True when this decision hands the goal to a skill (rather than a question or a reply)."""
        return self.intent == SKILL and self.agent is not None and self.confidence >= threshold
