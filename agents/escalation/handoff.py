"""``human-handoff``: queue the conversation for a person. One turn; no verification needed."""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.escalation.advice import suggest_next_step
from agents.escalation.profile import gather_profile
from agents.escalation.summary import case_summary
from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from shared.escalation import HANDOFF_NOTES_KEY, HandoffNotes, Priority

_HIGH = re.compile(
    r"\b(urgent|emergency|asap|immediately|angry|furious|complain|complaint|unacceptable|lawyer|"
    r"cancel my contract)\b",
    re.IGNORECASE,
)
# Someone else may have the line or the account, or the customer may need care: a person acts first.
_URGENT = re.compile(
    r"\b(stol[ea]n|stole|theft|robbed|mugged|fraud\w*|scam\w*|hacked|sim[ -]?(swap|change)\w*|sim\b[^.]{0,30}\bchanged|"
    r"vulnerab\w*|bereave\w*|domestic (abuse|violence)|suicid\w*)\b",
    re.IGNORECASE,
)
_RANK = {"urgent": 0, "high": 1, "normal": 2}


def priority_of(text: str) -> Priority:
    if _URGENT.search(text):
        return "urgent"
    return "high" if _HIGH.search(text) else "normal"


async def human_handoff(turn: Turn) -> Reply:
    reason = turn.handoff.reason or turn.text or "customer asked for a person"
    keys = turn.keys
    email = keys.email if keys is not None and turn.envelope.auth_context else None
    # The specialist that asked for this hand-over may already know it is urgent; words can raise it too.
    said = priority_of(f"{turn.text} {turn.handoff.reason} {turn.envelope.summary}")
    asked: Priority = turn.handoff.priority or "normal"
    priority = min(said, asked, key=_RANK.__getitem__)
    # The human's case carries the profile, read now through the gateway like any other call.
    profile = await gather_profile(turn)
    note, usage = await case_summary(turn)
    queued = await turn.call(
        "support.request_human",
        {
            "conversation_id": turn.envelope.conversation_id,
            "reason": reason[:300],
            "summary": note,
            "priority": priority,
            "email": email,
        },
        step="request-human",
    )
    # The support system's count is not the queue people work from: the supervisor tells the
    # customer their place in the console's own ordering.
    position = queued.get("queue_position")
    summary = f"handed to a human ({priority} priority)"
    await log_interaction(turn, summary=summary, outcome="escalated")
    notes = HandoffNotes(
        summary=note,
        suggested_next_step=suggest_next_step(turn, priority),
        priority=priority,
        reason=reason[:300],
        handoff_id=queued.get("handoff_id"),
        queue_position=position if isinstance(position, int) else None,
        profile=profile,
    )
    data = {
        "handoff_id": queued.get("handoff_id"),
        "priority": priority,
        HANDOFF_NOTES_KEY: notes.model_dump(mode="json"),
    }
    if usage.calls and turn.summary_model is not None:  # only a summary model has calls to report
        data["llm_usage"] = {"agent": turn.agent, "model": turn.summary_model.name, **usage.as_dict()}
    return turn.reply(
        "I've asked a member of our team to join this conversation. "
        "They'll see everything we've discussed, so you won't need to repeat yourself.",
        "completed",
        summary=summary,
        data=data,
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    """No verification: anyone may ask for a person."""
    return one_step(human_handoff)
