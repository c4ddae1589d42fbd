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
from shared.escalation import HANDOFF_NOTES_KEY, HandoffNotes

_URGENT = re.compile(
    r"\b(urgent|emergency|asap|immediately|angry|furious|complain|complaint|unacceptable|fraud|stolen|"
    r"scam|lawyer|cancel my contract)\b",
    re.IGNORECASE,
)


def priority_of(text: str) -> str:
    return "high" if _URGENT.search(text) else "normal"


async def human_handoff(turn: Turn) -> Reply:
    reason = turn.handoff.reason or turn.text or "customer asked for a person"
    keys = turn.keys
    email = keys.email if keys is not None and turn.envelope.auth_context else None
    # The specialist that asked for this hand-over may already know it is urgent; words can raise it too.
    priority = "high" if turn.handoff.priority == "high" else priority_of(f"{turn.text} {turn.handoff.reason}")
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
        priority="high" if priority == "high" else "normal",
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
