"""What the AI did for the customer, kept as the specialists report it, for the person who takes the case.

A specialist's result names its references in ``data`` (a refund id, a ticket, an order, a code
sent); each becomes one ``ActionTaken`` in plain words. The gateway's audit stays the record of
every call; this is the short list a person reads first, so each action appears once however
often a turn was retried.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.conversations import ConversationState
from orchestrator.wording import money
from shared.case_summary import ActionOutcome, ActionTaken
from shared.handoff import SpecialistResult

MAX_ACTIONS = 50
# References that are not actions: what was looked at, not something done.
_LOOKED_AT = frozenset(
    {
        "conversation_id",
        "customer_id",
        "plan_id",
        "current_plan_id",
        "old_plan_id",
        "new_plan_id",
        "charge_id",
        "invoice_id",
        "article_id",
        "outage_id",
        "verification_id",
        "handoff_id",
    }
)


def _amount(data: dict[str, Any]) -> str:
    amount = data.get("amount")
    return money(amount, data.get("currency")) if amount is not None else "the amount"


def _described(skill: str, result: SpecialistResult) -> list[tuple[str, str | None, ActionOutcome]]:
    data = result.data or {}
    found: list[tuple[str, str | None, ActionOutcome]] = []
    if data.get("refunded") is True:
        found.append((f"Refunded {_amount(data)} for a duplicate charge", data.get("refund_id"), "done"))
    elif data.get("approval_pending") and data.get("approval_id"):
        found.append((f"Refund of {_amount(data)} held for a person's approval", data["approval_id"], "waiting"))
    if data.get("changed") is True and data.get("new_plan_name"):
        was = data.get("old_plan_name") or "the previous plan"
        effective = f", effective {data['effective_from']}" if data.get("effective_from") else ""
        found.append((f"Plan changed from {was} to {data['new_plan_name']}{effective}", None, "done"))
    if skill == "report-lost-phone" and data.get("order_id"):
        found.append((f"SIM blocked on the customer's number ({data.get('reason') or 'lost'} phone)", None, "done"))
        found.append(("Replacement SIM ordered", str(data["order_id"]), "done"))
    if data.get("ticket_id"):
        priority = f" ({data['priority']} priority)" if data.get("priority") else ""
        found.append((f"Ticket opened{priority}", str(data["ticket_id"]), "done"))
    if data.get("link_id"):
        found.append((f"{str(data.get('purpose') or 'sign-in').capitalize()} link sent", str(data["link_id"]), "done"))
    if data.get("sim_change_pause"):
        found.append(("Payment paused by the gateway: the SIM on the line changed recently", None, "refused"))
    named = {ref for _, ref, _ in found if ref}
    # Other skills' references: the specialist's own summary says what happened.
    for key, value in data.items():
        reference = key.endswith("_id") and key not in _LOOKED_AT and isinstance(value, str) and value
        if reference and value not in named and result.status == "completed":
            found.append((result.summary or skill.replace("-", " "), value, "done"))
    return found


def _codes_sent(result: SpecialistResult) -> list[tuple[str, str | None, ActionOutcome]]:
    sent = [c for c in result.tool_calls if c.tool == "identity.start_verification" and c.ok]
    return [("One-time verification code sent", None, "done")] if sent else []


def record_actions(state: ConversationState, agent: str, skill: str, result: SpecialistResult) -> None:
    """Add the actions this result reports; an action already recorded (a retried turn) is not repeated."""
    now = time.time()
    known = {(a.what, a.reference) for a in state.actions}
    for what, reference, outcome in [*_codes_sent(result), *_described(skill, result)]:
        if (what, reference) in known:
            continue
        known.add((what, reference))
        state.actions.append(ActionTaken(at=now, agent=agent, what=what, reference=reference, outcome=outcome))
    del state.actions[:-MAX_ACTIONS]


def settle_approval(state: ConversationState, approval_id: str, status: str) -> None:
    """An approval was decided: the action that waited for it says how it ended."""
    for action in state.actions:
        if action.reference == approval_id and action.outcome == "waiting":
            action.outcome = "done" if status == "executed" else "refused"
            decided = "approved by a person" if status == "executed" else f"not carried out (approval {status})"
            action.what = action.what.replace("held for a person's approval", decided)
