"""``contract-end``: when the minimum term ends and what leaving would cost. One turn, a quote.

Nothing is cancelled here. A customer who wants to leave hears the cost, a cheaper plan to stay on
when there is one (the retention offer), and is offered a colleague: the reply carries the offer of
a person, so "yes" connects them (leaving is never done by the assistant alone).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import money


def _date(value: Any) -> str:
    """A contract date with its year ("3 March 2027"): terms span years."""
    try:
        when = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{when.day} {when:%B %Y}"


_LEAVING = re.compile(
    r"\b(cancel\w*|terminat\w*|leav\w*|end (my|the) contract|switch\w* (to )?(another|a different|a cheaper)|"
    r"(another|other|different) (provider|network)|port\w* (out|away)|close my line)\b",
    re.IGNORECASE,
)


def _cheaper(plans: list[dict[str, Any]], fee: float) -> dict[str, Any] | None:
    """The best-value plan that costs less than the customer pays now: the one to offer before they go."""
    cheaper = [p for p in plans if float(p.get("monthly_fee") or 0) < fee]
    return max(cheaper, key=lambda p: float(p.get("monthly_fee") or 0)) if cheaper else None


async def _retention_offer(turn: Turn, currency: str) -> tuple[str, str | None]:
    assert turn.keys is not None
    account = await turn.call("billing.get_account", {"msisdn": turn.keys.msisdn})
    plans = (await turn.call("billing.list_plans", {})).get("plans") or []
    fee = float(account.get("monthly_fee") or 0)
    plan = _cheaper(plans, fee)
    if plan is None:
        return "", None
    saving = money(round(fee - float(plan["monthly_fee"]), 2), currency)
    text = (
        f" Before you decide: you could stay and move to {plan['name']} at "
        f"{money(plan['monthly_fee'], currency)} a month, {saving} a month less than now; just say if you'd like that."
    )
    return text, str(plan["plan_id"])


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
    offer, offered_plan = ("", None)
    if _LEAVING.search(f"{turn.handoff.reason} {turn.text}"):
        offer, offered_plan = await _retention_offer(turn, currency)
        summary += f", wants to leave{', offered ' + offered_plan if offered_plan else ''}"
    text += offer
    text += " If you'd like to go ahead with leaving, say yes and I'll connect you with a colleague who can do that."
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        handoff_to=HUMAN.model_copy(update={"reason": "wants to leave or cancel the contract"}),
        data={
            "offered_plan": offered_plan,
            "ends_on": contract.get("ends_on"),
            "in_minimum_term": bool(contract.get("in_minimum_term")),
            "months_remaining": months,
            "early_exit_fee": contract.get("early_exit_fee"),
            "currency": currency,
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(contract_end, verified=("msisdn",))
