"""``refund-status``: where the customer's refunds are, and the refund policy. One turn, reads only.

A refund issued goes back to the card that paid within 3 to 5 working days. When there is no
refund but a charge is a duplicate still unrefunded, the answer names it and offers the refund:
"yes" takes the customer to ``refund-charge``, which proposes and issues it (never this skill).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import day, money, parse_time
from shared.handoff import HandoffTarget

POLICY = (
    "Refunds go back to the card that paid, and usually reach it within 3 to 5 working days of being issued; "
    "a duplicate or mistaken charge is refunded in full."
)
_ARRIVES_WITHIN = timedelta(days=7)  # 5 working days, counted generously as a calendar week


def _arrival(refund: dict[str, Any], now: datetime) -> str:
    issued = parse_time(refund.get("created_at"))
    if issued is None:
        return ""
    due = issued + _ARRIVES_WITHIN
    if now >= due:
        return " It should already be on your card statement; card issuers sometimes show it as a credit."
    return f" It should reach your card by {day(due)}."


async def refund_status(turn: Turn) -> Reply:
    assert turn.keys is not None
    account = turn.keys.account_number
    refunds = (await turn.call("payments.list_refunds", {"account_number": account})).get("refunds") or []
    now = datetime.now(UTC)
    parts: list[str] = []
    for refund in refunds[:3]:
        parts.append(
            f"Your refund {refund.get('refund_id')} of {money(refund.get('amount'), refund.get('currency'))} was "
            f"issued on {day(refund.get('created_at'))} ({refund.get('status')}).{_arrival(refund, now)}"
        )
    offer: HandoffTarget | None = None
    offered: str | None = None
    duplicates = (await turn.call("payments.find_duplicate_charges", {"account_number": account})).get(
        "duplicates"
    ) or []
    if duplicates:
        dup = max(duplicates, key=lambda d: str(d.get("charged_at", "")))
        shown = money(dup.get("refundable_amount"), dup.get("currency") or "GBP")
        opening = "I also" if refunds else "I can't see a refund on your account yet, but I"
        parts.append(
            f"{opening} can see a duplicate "
            f"charge of {money(dup.get('amount'), dup.get('currency') or 'GBP')} on {day(dup.get('charged_at'))} "
            f"for invoice {dup.get('invoice_id')} that hasn't been refunded. Say yes and I'll refund the {shown}."
        )
        offered = dup.get("charge_id")
        offer = HandoffTarget(agent="payment", skill="refund-charge", reason="a duplicate charge not yet refunded")
    elif not refunds:
        parts.append("I can't see any refund on your account, and no charge that was taken twice.")
    parts.append(POLICY)
    summary = f"{len(refunds)} refunds, {len(duplicates)} unrefunded duplicates"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        " ".join(parts),
        "completed",
        summary=summary,
        handoff_to=offer,
        data={
            "refunds": [r.get("refund_id") for r in refunds],
            "duplicate_offered": offered,
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(refund_status, verified=("account_number",))
