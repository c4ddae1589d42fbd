"""``open-account``: someone who wants to join (or add a line) hears the plans and how to join.

No customer data is read, so no verification is needed: a newcomer has nothing to verify. Opening
an account takes checks a chat cannot do (identity documents, a credit check), so the answer is
the plans with their prices, the two ways to join, and a colleague to set it up on a yes.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import HUMAN
from agents.runtime.steps import one_step
from agents.runtime.text import money


async def open_account(turn: Turn) -> Reply:
    plans = (await turn.call("billing.list_plans", {})).get("plans") or []
    rows = "\n".join(f"- {p['name']}: {money(p['monthly_fee'], 'GBP')} a month, {p['data_gb']} GB" for p in plans)
    existing = turn.envelope.customer is not None and turn.envelope.auth_context is not None
    opener = (
        "Happy to help you add a line. A new line comes on one of our plans:"
        if existing
        else "Welcome, we'd be glad to have you. Our plans are:"
    )
    text = (
        f"{opener}\n{rows}\nYou can join online at my.northwind.example/join or in any of our shops. "
        "If you'd rather, say yes and I'll connect you with "
        "a colleague who can set it up with you."
    )
    return turn.reply(
        text,
        "completed",
        summary="wants to open an account or add a line; plans shown, a colleague offered",
        handoff_to=HUMAN.model_copy(update={"reason": "wants to open an account or add a line"}),
        data={"plans": [p["plan_id"] for p in plans], "existing_customer": existing},
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(open_account)
