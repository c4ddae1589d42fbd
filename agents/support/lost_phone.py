"""``report-lost-phone``: bar the SIM at once, send a replacement, open an urgent case. One turn.

Nothing is asked first: every minute a stolen SIM stays live is a minute of calls, texts and
one-time codes in someone else's hands, and blocking is undone by activating the replacement.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step

_STOLEN = re.compile(r"\b(stol[ea]n|stole|theft|thief|thie[fv]|robbed|nicked|snatched|mugged|pickpocket\w*)\b", re.I)


def reason_of(text: str) -> str:
    """``stolen`` when the customer says so, otherwise ``lost`` (the police reference matters only then)."""
    return "stolen" if _STOLEN.search(text) else "lost"


async def report_lost_phone(turn: Turn) -> Reply:
    assert turn.keys is not None
    msisdn, email = turn.keys.msisdn, turn.keys.email
    reason = reason_of(f"{turn.handoff.reason} {turn.text}")
    block = await turn.call("network.block_sim", {"msisdn": msisdn, "reason": reason}, step="block-sim")
    order = await turn.call("network.order_replacement_sim", {"msisdn": msisdn}, step="replacement-sim")
    ticket = await turn.call(
        "support.open_ticket",
        {
            "email": email,
            "category": "lost-or-stolen",
            "summary": f"Phone reported {reason}: SIM blocked, replacement SIM {order.get('order_id')} sent",
            "priority": "urgent",
        },
        step="ticket:lost-or-stolen",
    )
    lines = [
        "I'm sorry about your phone. I've blocked the SIM on your number straight away, so nobody can make "
        "calls, send texts or use data on it.",
        f"A replacement SIM with the same number is on its way to the address on your account "
        f"(order {order.get('order_id')}, expected by {order.get('expected_delivery')}).",
        f"I've opened an urgent case, {ticket.get('ticket_id')}, so our team follows it up first.",
    ]
    if reason == "stolen":
        lines.append(
            "Please report the theft to the police and keep their reference; you may need it for your insurer."
        )
    lines.append("If your banking apps use text codes, tell your bank too until the new SIM is working.")
    summary = f"phone {reason}: SIM blocked, replacement {order.get('order_id')}, case {ticket.get('ticket_id')}"
    await log_interaction(turn, summary=summary, outcome="sim-blocked")
    return turn.reply(
        "\n".join(lines),
        "completed",
        summary=summary,
        data={
            "reason": reason,
            "sim_status": block.get("sim_status"),
            "order_id": order.get("order_id"),
            "expected_delivery": order.get("expected_delivery"),
            "ticket_id": ticket.get("ticket_id"),
            "priority": ticket.get("priority", "urgent"),
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(report_lost_phone, verified=("msisdn", "email"))
