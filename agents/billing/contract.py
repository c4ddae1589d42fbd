"""``contract-end``: when the minimum term ends and what leaving early would cost. One turn, a quote.

Nothing is cancelled here: a customer asking what it costs to leave is told, and a customer who
wants to leave is offered a person (leaving is never done by the assistant alone).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import money


def _date(value: Any) -> str:
    """A contract date with its year ("3 March 2027"): terms span years."""
    try:
        when = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{when.day} {when:%B %Y}"


async def contract_end(turn: Turn) -> Reply:
    assert turn.keys is not None
    contract = await turn.call("billing.get_contract", {"msisdn": turn.keys.msisdn})
    currency = str(contract.get("currency") or "GBP")
    plan = contract.get("plan_name") or "current"
    notice = contract.get("notice_days", 30)
    months = int(contract.get("months_remaining") or 0)
    if contract.get("in_minimum_term"):
        fee = money(contract.get("early_exit_fee"), currency)
        text = (
            f"Your {plan} contract's minimum term runs until {_date(contract.get('ends_on'))}, "
            f"{months} month{'s' if months != 1 else ''} from now. Leaving before then costs "
            f"{money(contract.get('exit_fee_per_month'), currency)} for each month left, so {fee} if you "
            f"left today, plus {notice} days' notice. After {_date(contract.get('ends_on'))} there's no fee."
        )
        summary = f"contract ends {contract.get('ends_on')}, exit fee {fee}"
    else:
        text = (
            f"Your {plan} contract's minimum term ended on {_date(contract.get('ends_on'))}, so there's no fee to "
            f"leave or change: you're on a rolling monthly plan and only need to give {notice} days' notice."
        )
        summary = f"out of minimum term since {contract.get('ends_on')}, no exit fee"
    text += " If you're thinking of leaving, I can connect you with a colleague who can look at your options."
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        data={
            "ends_on": contract.get("ends_on"),
            "in_minimum_term": bool(contract.get("in_minimum_term")),
            "months_remaining": months,
            "early_exit_fee": contract.get("early_exit_fee"),
            "currency": currency,
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(contract_end, verified=("msisdn",))
