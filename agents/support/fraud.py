"""``report-fraud``: someone else is using the account or the line. Protect it at once, then a person.

One turn, nothing asked first, like a lost phone: the line is locked against porting and SIM
changes (the two ways a number is taken over), an urgent case goes to the fraud team, and the
customer is offered a person straight away. Lifting the lock is only ever a person's decision.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import one_step


def _reported(turn: Turn) -> str:
    said = " ".join(turn.text.split())
    return (said or "customer reported suspected fraud")[:280]


async def report_fraud(turn: Turn) -> Reply:
    assert turn.keys is not None
    msisdn, email = turn.keys.msisdn, turn.keys.email
    reported = _reported(turn)
    lock = await turn.call("network.lock_line", {"msisdn": msisdn, "reason": reported}, step="lock-line")
    ticket = await turn.call(
        "support.open_ticket",
        {
            "email": email,
            "category": "fraud",
            "summary": f"Suspected fraud; line locked against porting and SIM changes. Customer said: {reported}",
            "priority": "urgent",
        },
        step="ticket:fraud",
    )
    text = (
        "I'm sorry this is happening. I've protected your line straight away: nobody can move your number to another "
        "provider or onto a new SIM until our fraud team has checked with you, and your own calls, texts and data "
        f"keep working. I've opened an urgent case, {ticket.get('ticket_id')}, so the fraud team looks at it first.\n"
        "Please don't share any code we send you with anyone: we'll never ask for your password or a code by phone. "
        "If money has gone from your bank account, call your bank too.\n"
        "Would you like me to put you through to a member of our team now?"
    )
    summary = f"suspected fraud: line locked, urgent case {ticket.get('ticket_id')}"
    await log_interaction(turn, summary=summary, outcome="line-locked")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        handoff_to=HUMAN.model_copy(
            update={"reason": f"suspected fraud, urgent case {ticket.get('ticket_id')}", "priority": "high"}
        ),
        data={
            "locked": bool(lock.get("locked")),
            "blocks": lock.get("blocks"),
            "ticket_id": ticket.get("ticket_id"),
            "priority": ticket.get("priority", "urgent"),
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(report_fraud, verified=("msisdn", "email"))
