"""The suggested next step for the human taking the case, from what the conversation shows.

Rules, not a model: the advice must be right when no model is configured, and a human reads
it before anything else, so it says what to check first and why.
"""

from __future__ import annotations

import re

from agents.runtime import Turn

_APPROVAL = re.compile(r"\b(approval|approve|held|waiting for)\b", re.IGNORECASE)
_UNAVAILABLE = re.compile(r"\b(unavailable|failed|did not answer|couldn't reach)\b", re.IGNORECASE)
_DENIED = re.compile(r"\bnot allowed\b", re.IGNORECASE)
_RISK = re.compile(r"\b(fraud|stolen|scam|sim[ -]?swap|hacked)\b", re.IGNORECASE)


def suggest_next_step(turn: Turn, priority: str) -> str:
    seen = f"{turn.handoff.reason} {turn.envelope.summary} {turn.text}"
    verified = bool(turn.envelope.auth_context and turn.keys)
    if _RISK.search(seen):
        return (
            "Possible fraud or account takeover: do not change anything on the account; check for fraud holds "
            "and recent SIM swaps, and follow the fraud procedure."
        )
    if _APPROVAL.search(seen):
        return (
            "An action is waiting for approval: check its exact arguments and the policy reason below, approve or "
            "reject it, then tell the customer the outcome."
        )
    if _UNAVAILABLE.search(seen):
        return (
            "A system did not answer while the AI was helping: check the timeline for the failed call, finish the "
            "customer's request once it is back, or tell them when to expect it."
        )
    if _DENIED.search(seen):
        return (
            "The AI was not allowed to do what the customer asked: see the policy reason in the timeline and "
            "decide whether a person may do it, or explain why not."
        )
    opener = (
        "Acknowledge the complaint first, then ask" if priority in ("high", "urgent") else "Greet the customer and ask"
    )
    if not verified:
        return (
            f"{opener} what they need. They are not verified: do not discuss account details until they pass the "
            "identity check (hand back to the AI to verify them, or verify them yourself)."
        )
    return f"{opener} what they need; they already explained their case to the AI, so don't make them repeat it."
