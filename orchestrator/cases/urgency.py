"""Which escalated cases are urgent: they go before every other case in the human queue.

Urgent means a person should act before anything else: a lost or stolen phone (the SIM is in
someone else's hands), suspected fraud or account takeover, a customer in a vulnerable
situation, and a customer the service has already failed twice (the same thing failed twice,
or they asked for a person twice). It is decided from what the conversation shows (its
hand-offs, governed calls and steps, and the specialist's reason), not only from the words of
the last message, so a customer does not have to say "urgent" to be treated as urgent.
"""

from __future__ import annotations

import re
from collections import Counter

from orchestrator.conversations import ConversationState
from shared.escalation import Priority

_SECURITY_SKILLS = frozenset({"report-lost-phone", "suspected-fraud", "lost-or-stolen-phone"})
_RISK = re.compile(
    r"\b(stol[ea]n|stole|theft|robbed|mugged|lost (my|the|his|her) phone|fraud\w*|scam\w*|hacked|"
    r"account takeover|sim[ -]?(swap|change)\w*|sim\b[^.]{0,30}\bchanged|someone else (is )?using|not me)\b",
    re.IGNORECASE,
)
_VULNERABLE = re.compile(
    r"\b(vulnerab\w*|disabilit\w*|disabled|bereave\w*|passed away|died|domestic (abuse|violence)|"
    r"carer|dementia|hospital|terminal\w*|can'?t cope|suicid\w*|self[- ]harm|elderly)\b",
    re.IGNORECASE,
)
_FAILED_STEP = re.compile(r"\b(wrong code|failed|unavailable|not allowed|couldn'?t)\b", re.IGNORECASE)
_RANK: dict[Priority, int] = {"urgent": 0, "high": 1, "normal": 2}


def _human_requests(state: ConversationState) -> int:
    return sum(1 for h in state.handoffs if h.to_agent == "escalation")


def _repeated_failure(state: ConversationState) -> str | None:
    """The same governed call failed (or was refused) twice, or the same step went wrong twice."""
    calls = Counter(c.tool for c in state.tool_calls if not c.ok)
    tool, times = calls.most_common(1)[0] if calls else ("", 0)
    if times >= 2:
        return f"{tool} failed {times} times"
    steps = Counter(s for s in state.summaries if _FAILED_STEP.search(s))
    step, times = steps.most_common(1)[0] if steps else ("", 0)
    if times >= 2:
        return f"“{step}” happened {times} times"
    # "wrong code, 2 attempts left" then "wrong code, 1 attempts left": one failure, said twice.
    wrong_codes = sum(1 for s in state.summaries if "wrong code" in s)
    return f"a wrong verification code {wrong_codes} times" if wrong_codes >= 2 else None


def urgent_reasons(state: ConversationState, said: str) -> list[str]:
    """Why this escalation is urgent (empty when it is not); ``said`` is the specialist's reason and summary."""
    reasons: list[str] = []
    if any(h.skill in _SECURITY_SKILLS for h in state.handoffs):
        reasons.append("lost or stolen phone reported in this conversation")
    seen = " ".join([said, *state.summaries[-20:]])
    risk = _RISK.search(seen)
    if risk and not reasons:
        reasons.append(f"possible fraud or account takeover (“{risk.group(0)}”)")
    vulnerable = _VULNERABLE.search(seen)
    if vulnerable:
        reasons.append(f"the customer may be in a vulnerable situation (“{vulnerable.group(0)}”)")
    if _human_requests(state) >= 2:
        reasons.append(f"the customer asked for a person {_human_requests(state)} times")
    failure = _repeated_failure(state)
    if failure:
        reasons.append(f"repeated failure: {failure}")
    return reasons


def raise_priority(current: Priority, reasons: list[str]) -> Priority:
    """Urgent when there is a reason; never lowers what the specialist already decided."""
    wanted: Priority = "urgent" if reasons else current
    return wanted if _RANK[wanted] < _RANK[current] else current


def rank(priority: str) -> int:
    """Queue order of a priority: urgent first, then high, then normal (unknown counts as normal)."""
    return {"urgent": 0, "high": 1}.get(priority, 2)


def mark_urgent(state: ConversationState) -> None:
    """Raise the latest escalation to urgent when the conversation shows why (the reasons go with it)."""
    notes = state.escalation
    if notes is None:
        return
    reasons = urgent_reasons(state, f"{notes.reason} {notes.summary}")
    notes.urgent_because = reasons
    notes.priority = raise_priority(notes.priority, reasons)
