"""``refund-charge``: find the duplicate, propose the refund, refund on a yes.

skill_state: ``step`` (confirm), ``charge_id``, ``amount``, ``currency``, ``charged_at``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction, needs_verification
from agents.runtime.text import day, find_amount, money, yes_no

_RECENT = 5
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")


def _approval_id(detail: str) -> str | None:
    """The gateway names the approval first in its APPROVAL_REQUIRED sentence."""
    found = _APPROVAL_ID.search(detail)
    return found.group(0) if found else None


def _choose_duplicate(text: str, duplicates: list[dict[str, Any]]) -> dict[str, Any]:
    """The duplicate whose amount the customer mentioned, else the most recent one."""
    wanted = find_amount(text)
    if wanted is not None:
        for dup in duplicates:
            if Decimal(str(dup.get("amount"))) == wanted:
                return dup
    return max(duplicates, key=lambda d: str(d.get("charged_at", "")))


async def refund_charge(turn: Turn) -> Reply:
    if (blocked := needs_verification(turn, "account_number")) is not None:
        return blocked
    state = dict(turn.state)
    if state.get("step") == "confirm":
        return await _confirm(turn, state)
    assert turn.keys is not None
    account = turn.keys.account_number
    found = await turn.call("payments.find_duplicate_charges", {"account_number": account})
    duplicates = found.get("duplicates") or []
    if not duplicates:
        return await _no_duplicate(turn, account)
    dup = _choose_duplicate(turn.text, duplicates)
    state.update(
        step="confirm",
        charge_id=dup["charge_id"],
        duplicate_of=dup.get("duplicate_of"),
        amount=str(dup["amount"]),
        currency=dup.get("currency"),
        charged_at=dup.get("charged_at"),
    )
    amount = money(dup["amount"], dup.get("currency"))
    return turn.reply(
        f"I can see a duplicate charge of {amount} on {day(dup.get('charged_at'))}"
        f"{' for invoice ' + dup['invoice_id'] if dup.get('invoice_id') else ''}. "
        f"Would you like me to refund the {amount}? (yes/no)",
        "input-required",
        summary=f"proposed refund of duplicate {dup['charge_id']}",
        state=state,
        data={"charge_id": dup["charge_id"], "amount": str(dup["amount"])},
    )


async def _no_duplicate(turn: Turn, account: str | None) -> Reply:
    listed = await turn.call("payments.list_charges", {"account_number": account, "limit": _RECENT})
    charges = (listed.get("charges") or [])[:_RECENT]
    rows = "\n".join(
        f"- {day(c.get('charged_at'))}: {money(c.get('amount'), c.get('currency'))} ({c.get('status', 'paid')})"
        for c in charges
    )
    text = "I couldn't find a duplicate charge on your account."
    if rows:
        text += f" Your recent charges are:\n{rows}\n"
    text += " If something still looks wrong, I can connect you with a member of our team."
    await log_interaction(turn, summary="no duplicate charge found", outcome="no-action")
    return turn.reply(
        text,
        "completed",
        summary="no duplicate charge found",
        data={"duplicate_found": False, "refunded": False},
    )


async def _confirm(turn: Turn, state: dict[str, Any]) -> Reply:
    answer = yes_no(turn.text)
    if answer is None:
        return turn.reply(
            f"Shall I refund the {money(state['amount'], state.get('currency'))}? Please answer yes or no.",
            "input-required",
            summary="waiting for refund confirmation",
            state=state,
        )
    if answer is False:
        return turn.reply(
            "OK, I haven't refunded anything.",
            "completed",
            summary="refund declined by the customer",
            data={"refunded": False},
        )
    assert turn.keys is not None
    refund = await turn.call(
        "payments.issue_refund",
        {
            "account_number": turn.keys.account_number,
            "charge_id": state["charge_id"],
            "amount": float(state["amount"]),
            "reason": "duplicate charge",
        },
        step=f"refund:{state['charge_id']}",
    )
    amount = money(state["amount"], state.get("currency"))
    if str(refund.get("status", "")).startswith(("pending_approval", "approval")):
        approval_id = _approval_id(str(refund.get("detail", "")))
        summary = f"refund of {state['charge_id']} awaits approval {approval_id or ''}".strip()
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        return turn.reply(
            f"A refund of {amount} needs a quick approval from a member of our team. I've asked for it, "
            "and it will go through once approved; I'll tell you here as soon as it's decided. "
            "You don't need to do anything else.",
            "completed",
            summary=summary,
            data={
                "refunded": False,
                "approval_pending": True,
                "approval_id": approval_id,
                "charge_id": state["charge_id"],
                "amount": state["amount"],
                "currency": state.get("currency"),
            },
        )
    summary = f"refunded {state['amount']} for duplicate charge {state['charge_id']}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        f"Done. I've refunded {amount}; your refund reference is {refund.get('refund_id')}. "
        "It usually reaches your card within 3 to 5 working days.",
        "completed",
        summary=summary,
        data={
            "refunded": True,
            "refund_id": refund.get("refund_id"),
            "charge_id": state["charge_id"],
            "amount": state["amount"],
            "status": refund.get("status"),
        },
    )
