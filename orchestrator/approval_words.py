"""What the customer reads about a held action: the skill's own words, else neutral ones.

The supervisor announces a wait and, later, the decision, but it does not know what was held
(a refund, a discount, a plan change): the specialist's skill does, and sends its messages
with the hold (``SpecialistResult.messages``, from the SKILL.md ``## Messages`` section).
Without them the supervisor says nothing that assumes a kind of action: no card, no refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator import wording
from orchestrator.conversations import ParkedApproval
from shared.skill_messages import fill

_REFERENCE_KEYS = ("reference", "refund_id", "discount_id", "change_id", "ticket_id")


def _values(parked: ParkedApproval, result: Mapping[str, Any]) -> dict[str, str]:
    amount = wording.money(parked.amount, parked.currency) if parked.amount is not None else ""
    reference = next((str(result[k]) for k in _REFERENCE_KEYS if result.get(k)), "")
    return {"amount": amount, "reference": f" (reference {reference})" if reference else ""}


def _what(parked: ParkedApproval) -> str:
    if parked.amount is None:
        return "your request"
    return f"your request for {wording.money(parked.amount, parked.currency)}"


def waiting_text(parked: ParkedApproval) -> str:
    """Said while the action waits for a person to decide."""
    if "waiting" in parked.messages:
        return fill(parked.messages["waiting"], _values(parked, {}))
    return (
        f"{_what(parked).capitalize()} is waiting for approval from a member of our team. "
        "I'll update you here as soon as it's decided; if you'd rather talk to someone now, just ask for a person."
    )


def resolution_text(parked: ParkedApproval, status: str, result: Mapping[str, Any], note: str) -> str:
    """Said once the gateway reports the decision: executed, rejected, expired or failed."""
    outcome = {"executed": "approved", "expired": "expired", "rejected": "rejected"}.get(status, "failed")
    if outcome == "rejected" and note.startswith("kill switch"):
        outcome = "paused"
    template = parked.messages.get(outcome)
    if template is not None:
        return fill(template, _values(parked, result))
    what = _what(parked)
    if outcome == "approved":
        reference = _values(parked, result)["reference"]
        return (
            f"Good news: {what} has been approved and carried out{reference}. Is there anything else I can help with?"
        )
    if outcome == "expired":
        return (
            f"I'm sorry, the approval for {what} timed out before our team could decide, so nothing has changed. "
            "Say 'yes' and I'll connect you with a colleague, or ask me again later."
        )
    if outcome == "paused":
        return (
            f"I'm sorry, our team has paused this kind of action for now, so {what} has not gone through and "
            "nothing has changed. Say 'yes' and I'll connect you with a colleague who can help."
        )
    if outcome == "rejected":
        return (
            f"I'm sorry, our team couldn't approve {what}, so nothing has changed. "
            "Say 'yes' and I'll connect you with a colleague who can look at it with you."
        )
    return (
        f"I'm sorry, {what} was approved but could not be completed, and nothing has changed. "
        "Say 'yes' and I'll connect you with a colleague."
    )
