"""``outage-status``: is there an outage where the customer is, and compensation for one, after a yes.

    verify -> look -> [confirm (waits for yes/no) -> credit]

The published rate: an unplanned outage that lasted a day or more earns 5.00 off the next bill for
each day (or part of one) it lasted; planned work and shorter outages earn nothing. ``credit``
reads the outage again and works the amount out from the network's record, never from what was
said; the billing system credits an outage once, and the gateway holds any credit above 10.00 for
a person.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day, money
from agents.support.confirming import CONFIRM_NODE, ConfirmState, confirm, held_for_approval, propose

PER_DAY = Decimal("5.00")
MIN_HOURS = 24
CURRENCY = "GBP"


def compensation(outage: dict[str, Any]) -> Decimal:
    """What an outage earns: nothing for planned work or under a day, else PER_DAY per started day."""
    hours = int(outage.get("hours") or 0)
    if outage.get("status") != "ended" or outage.get("planned") or hours < MIN_HOURS:
        return Decimal(0)
    return PER_DAY * math.ceil(hours / 24)


class OutageState(ConfirmState, total=False):
    outage_id: str


def _ongoing(outage: dict[str, Any], area: str) -> str:
    return (
        f"Yes, there's an outage in {area} right now: {outage.get('description')}. It started on "
        f"{day(outage.get('started_at'))} and our engineers are working on it. "
    )


def _ended(outage: dict[str, Any], area: str) -> str:
    return (
        f"There was an outage in {area} from {day(outage.get('started_at'))}: {outage.get('description')}, "
        f"lasting {outage.get('hours')} hours. "
    )


async def look(state: OutageState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    assert turn.keys is not None
    listed = await turn.call("network.list_outages", {"msisdn": turn.keys.msisdn})
    area, outages = listed.get("area") or "your area", listed.get("outages") or []
    ongoing = [o for o in outages if o.get("status") == "ongoing"]
    text = "".join(_ongoing(o, area) for o in ongoing[:1])
    due = next((o for o in outages if compensation(o) > 0), None)
    data = {"area": area, "ongoing": [o.get("outage_id") for o in ongoing]}
    if due is not None:
        amount = compensation(due)
        return propose(
            text + _ended(due, area) + f"That earns a credit of {money(amount, CURRENCY)} on your next bill. "
            "Shall I add it? (yes/no)",
            summary=f"offered {amount} credit for outage {due.get('outage_id')}",
            declined="OK, I haven't added a credit.",
            data={**data, "outage_id": due.get("outage_id"), "amount": str(amount), "currency": CURRENCY},
            update={"outage_id": due.get("outage_id")},
        )
    ended = [o for o in outages if o.get("status") == "ended"]
    if ended:
        o = ended[0]
        why = "it was planned work we announced" if o.get("planned") else "it lasted less than a day"
        text += _ended(o, area) + (
            f"There's no credit for that one, because {why}: an unplanned outage of a day or more earns "
            f"{money(PER_DAY, CURRENCY)} for each day."
        )
    elif ongoing:
        text += (
            f"Once it's over, an outage that lasted a day or more earns {money(PER_DAY, CURRENCY)} off your next bill "
            "for each day; just ask me then."
        )
    else:
        text = (
            f"I can't see any outage in {area} now or in the last 30 days. If your service isn't working, tell me "
            "what's happening and I'll run a check on your line."
        )
    summary = f"outages in {area}: {len(ongoing)} ongoing, {len(ended)} ended; no credit due"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(turn.reply(text.strip(), "completed", summary=summary, data={**data, "credited": False}))


async def credit(state: OutageState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "credit")
    assert turn.keys is not None
    listed = await turn.call("network.list_outages", {"msisdn": turn.keys.msisdn})
    outage = next((o for o in listed.get("outages") or [] if o.get("outage_id") == state.get("outage_id")), None)
    amount = compensation(outage) if outage is not None else Decimal(0)
    if outage is None or amount <= 0:
        return finish(
            turn.reply(
                "That outage no longer qualifies for a credit, so I haven't added one.",
                "completed",
                summary="outage no longer qualifies",
                data={"credited": False},
            )
        )
    args = {
        "msisdn": turn.keys.msisdn,
        "amount": float(amount),
        "reason": "outage",
        "reference": outage["outage_id"],
    }
    shown = money(amount, CURRENCY)
    try:
        done = await turn.call("billing.apply_credit", args, step=f"credit:{outage['outage_id']}")
    except ToolFailed as refused:
        if "already credited" not in refused.detail:
            raise
        return finish(
            turn.reply(
                "That outage has already been credited to your account, so there's nothing more to add.",
                "completed",
                summary=f"outage {outage['outage_id']} already credited",
                data={"credited": False, "already": True},
            )
        )
    approval = held_for_approval(done)
    if approval is not None:
        summary = f"credit of {amount} for {outage['outage_id']} awaits approval"
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        return finish(
            turn.reply(
                f"A credit of {shown} needs a quick approval from a member of our team. I've asked for it, and once "
                "it's approved it comes off your next bill; you don't need to do anything else.",
                "completed",
                summary=summary,
                data={
                    "credited": False,
                    "approval_pending": True,
                    "approval_id": approval or None,
                    "amount": str(amount),
                    "currency": CURRENCY,
                },
            )
        )
    summary = f"credited {amount} for outage {outage['outage_id']} ({done.get('credit_id')})"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"Done: {shown} comes off your next bill on {day(done.get('shows_on'))} "
            f"(reference {done.get('credit_id')}). Sorry again for the disruption.",
            "completed",
            summary=summary,
            data={"credited": True, "credit_id": done.get("credit_id"), "amount": str(amount), "currency": CURRENCY},
        )
    )


def graph() -> StateGraph[OutageState, SkillContext, Any, Any]:
    g = StateGraph(OutageState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node(CONFIRM_NODE, confirm(then="credit", step="look"))
    g.add_node("credit", credit)
    g.set_entry_point(VERIFY_NODE)
    return g
