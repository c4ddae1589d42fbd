"""``ticket-status``: the customer's tickets, open ones first. One turn."""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import day

_TICKET_ID = re.compile(r"\b([A-Z]{1,4}-?\d{3,})\b", re.IGNORECASE)


async def ticket_status(turn: Turn) -> Reply:
    assert turn.keys is not None
    listed = await turn.call("support.list_tickets", {"email": turn.keys.email, "status": "any"})
    tickets = listed.get("tickets") or []
    asked = _TICKET_ID.search(turn.text)
    if asked:
        wanted = asked.group(1).upper()
        tickets = [t for t in tickets if str(t.get("ticket_id", "")).upper() == wanted] or tickets
    if not tickets:
        text = "You don't have any support tickets with us."
    else:
        ordered = sorted(tickets, key=lambda t: (t.get("status") != "open", str(t.get("opened_at", ""))))
        rows = [
            f"- {t.get('ticket_id')}: {t.get('summary', t.get('category', ''))}, {t.get('status')} "
            f"({t.get('priority', 'normal')} priority, opened {day(t.get('opened_at'))})"
            for t in ordered[:5]
        ]
        text = "Here are your tickets:\n" + "\n".join(rows)
    open_count = sum(1 for t in tickets if t.get("status") == "open")
    summary = f"{len(tickets)} tickets, {open_count} open"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        data={"tickets": [t.get("ticket_id") for t in tickets], "open": open_count},
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(ticket_status, verified=("email",))
