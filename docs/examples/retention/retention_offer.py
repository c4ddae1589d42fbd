"""``retention-offer``: what a customer gets for staying, a discount on a yes, a person if they still go.

    verify -> look -> offer (waits for yes/no) -> apply [-> held (waits for the approval) -> decided]

``look`` reads the contract (``billing.get_contract``: the end date and the fee to leave today) and
the account (the monthly fee). ``offer`` proposes the standard discount, or the percentage the
customer names; a customer who says no is offered a colleague (the hand-over to escalation, with
the reason the person will see). ``apply`` calls the governed ``billing.apply_discount``: above
20% the gateway holds it for a human (``gateway/policies/retention-approvals.cedar``), the task
waits in ``held``, and the gateway runs the approved call itself, once. ``decided`` delivers the
very same call again (same arguments, same idempotency key): the gateway answers with the
approved call's result, or refuses it when the person said no. The words that continue the task
are never believed.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Reply, ToolDenied, Turn
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import hand_over, log_interaction
from agents.runtime.steps import VERIFY_NODE, verified_first
from agents.runtime.text import money
from shared.tools import IDEMPOTENCY_ARG
from shared.yes_no import yes_no

TOOLS: tuple[str, ...] = (
    "billing.get_contract",
    "billing.get_account",
    "billing.apply_discount",
    "crm.log_interaction",
)
"""The governed tools this skill is granted (gateway/policies/retention-offer.cedar)."""

STANDARD_PERCENT = 10
MOST_PERCENT = 50  # the tool's input schema takes 1 to 50
_PERCENT = re.compile(r"\b(\d{1,3})\s*(?:%|per ?cent\b)", re.IGNORECASE)
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")  # the gateway names the approval in its answer


class RetentionOfferState(SkillState, total=False):
    ends_on: str
    exit_fee: str
    monthly_fee: str
    currency: str
    percent: int
    asked: bool
    key: str
    approval_id: str | None


def asked_percent(text: str) -> int | None:
    """The percentage the customer names ("30% off and I'll stay"), within what the tool takes."""
    found = _PERCENT.search(text)
    return min(max(int(found.group(1)), 1), MOST_PERCENT) if found else None


def _msisdn(turn: Turn) -> str:
    assert turn.keys is not None and turn.keys.msisdn  # the verification gate ran first
    return turn.keys.msisdn


async def look(state: RetentionOfferState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    msisdn = _msisdn(turn)
    contract, account = await turn.read_many(
        [("billing.get_contract", {"msisdn": msisdn}), ("billing.get_account", {"msisdn": msisdn})]
    )
    return Command(
        goto="offer",
        update=RetentionOfferState(
            ends_on=str(contract.get("ends_on")),
            exit_fee=str(contract.get("early_exit_fee") or 0),
            monthly_fee=str(account.get("monthly_fee") or 0),
            currency=str(contract.get("currency") or "GBP"),
            percent=asked_percent(turn.text) or STANDARD_PERCENT,
        ),
    )


def _offer(turn: Turn, state: RetentionOfferState) -> str:
    percent = state["percent"]
    fee = float(state["monthly_fee"])
    currency = state["currency"]
    after = money(round(fee * (100 - percent) / 100, 2), currency)
    if state.get("asked"):
        return f"Shall I take {percent}% off your monthly fee, so {after} a month? Please answer yes or no."
    exit_fee = float(state["exit_fee"])
    leaving = f"leaving before then costs {money(exit_fee, currency)}" if exit_fee else "no fee to leave"
    return (
        f"Your contract runs until {state['ends_on']} ({leaving}). If you stay, I can take {percent}% off "
        f"your monthly fee of {money(fee, currency)}, so {after} a month. Shall I apply that? (yes/no)"
    )


async def offer(state: RetentionOfferState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    said = ask(turn.reply(_offer(turn, state), "input-required", summary=f"offered {state['percent']}% to stay"))
    other = asked_percent(said)
    if other is not None and other != state["percent"]:
        return Command(goto="offer", update={"percent": other, "asked": False})
    answer = yes_no(said)
    if answer is None:
        return Command(goto="offer", update={"asked": True})
    if answer is False:
        reason = f"still wants to leave after a retention offer of {state['percent']}%"
        await log_interaction(turn, summary=reason, outcome="handed-over")
        return finish(hand_over(turn, reason=reason, priority="high"))
    return Command(goto="apply", update={"key": turn.idempotency_key(f"discount:{state['percent']}")})


async def _deliver(turn: Turn, state: RetentionOfferState) -> dict[str, Any]:
    """The discount call; delivered again unchanged, it is the same call to the gateway."""
    args = {"msisdn": _msisdn(turn), "percent": state["percent"], IDEMPOTENCY_ARG: state["key"]}
    return await turn.call("billing.apply_discount", args)


def _held(done: dict[str, Any]) -> bool:
    return str(done.get("status", "")).startswith(("pending_approval", "approval"))


async def apply(state: RetentionOfferState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    done = await _deliver(turn, state)
    if _held(done):
        await log_interaction(turn, summary=f"discount of {state['percent']}% awaits approval", outcome="pending")
        found = _APPROVAL_ID.search(str(done.get("detail", "")))
        return Command(goto="held", update={"approval_id": found.group(0) if found else None})
    return finish(await _applied(turn, state, done))


async def held(state: RetentionOfferState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    ask(
        turn.reply(
            f"A discount of {state['percent']}% needs a quick approval from a member of our team. I've asked for "
            "it, and it will go through once approved; I'll tell you here as soon as it's decided.",
            "input-required",
            summary=f"discount of {state['percent']}% awaits approval",
            data={
                "discount_applied": False,
                "approval_pending": True,
                "approval_id": state.get("approval_id"),
                "percent": state["percent"],
            },
        )
    )
    return Command(goto="decided")


async def decided(state: RetentionOfferState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    try:
        done = await _deliver(turn, state)
    except ToolDenied:
        return finish(
            turn.reply(
                f"The {state['percent']}% discount was not approved, so your monthly fee stays as it is. "
                "If you'd still like to leave, I can connect you with a colleague.",
                "completed",
                summary=f"discount of {state['percent']}% not approved",
                data={"discount_applied": False, "percent": state["percent"]},
            )
        )
    if _held(done):
        return Command(goto="held")
    return finish(await _applied(turn, state, done))


async def _applied(turn: Turn, state: RetentionOfferState, done: dict[str, Any]) -> Reply:
    summary = f"discount {done.get('discount_id')} of {done.get('percent')}% applied"
    before, after = (money(done.get(k), state["currency"]) for k in ("monthly_fee_before", "monthly_fee_after"))
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        f"Done: {done.get('percent')}% off your monthly fee for {done.get('months')} months, so "
        f"{after} a month instead of {before} "
        f"until {done.get('ends_on')}. Thank you for staying with us.",
        "completed",
        summary=summary,
        data={"discount_applied": True, **{k: done.get(k) for k in ("discount_id", "percent", "months")}},
    )


def graph() -> StateGraph[RetentionOfferState, SkillContext, Any, Any]:
    g = StateGraph(RetentionOfferState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node("offer", offer)
    g.add_node("apply", apply)
    g.add_node("held", held)
    g.add_node("decided", decided)
    g.set_entry_point(VERIFY_NODE)
    return g
