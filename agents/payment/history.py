"""``payment-history``: recent charges and refunds in a few lines. One turn."""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import day, money

_SHOWN = 5


def _card(charge: dict[str, Any]) -> str:
    return f", card ending {charge['card_last4']}" if charge.get("card_last4") else ""


async def payment_history(turn: Turn) -> Reply:
    assert turn.keys is not None
    account = turn.keys.account_number
    charges = (await turn.call("payments.list_charges", {"account_number": account, "limit": 10})).get("charges") or []
    refunds = (await turn.call("payments.list_refunds", {"account_number": account})).get("refunds") or []
    parts = []
    if charges:
        rows = [
            f"- {day(c.get('charged_at'))}: {money(c.get('amount'), c.get('currency'))} "
            f"({c.get('status', 'paid')}{_card(c)})"
            for c in charges[:_SHOWN]
        ]
        parts.append("Your recent payments:\n" + "\n".join(rows))
    else:
        parts.append("I can't see any payments on your account.")
    if refunds:
        rows = [
            f"- {day(r.get('created_at'))}: {money(r.get('amount'), r.get('currency'))} "
            f"({r.get('status', 'issued')}, reference {r.get('refund_id')})"
            for r in refunds[:_SHOWN]
        ]
        parts.append("Refunds:\n" + "\n".join(rows))
    else:
        parts.append("There are no refunds on your account.")
    summary = f"{len(charges)} charges, {len(refunds)} refunds shown"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        "\n".join(parts),
        "completed",
        summary=summary,
        data={"charges": len(charges), "refunds": len(refunds)},
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(payment_history, verified=("account_number",))
