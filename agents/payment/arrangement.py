"""``payment-arrangement``: pay an unpaid invoice in instalments, or two weeks later.

    verify -> look -> choose (waits for how many) -> confirm (waits for yes/no) -> arrange
                                                       [-> held (waits for the approval) -> decided]

Up to 100.00 goes through at once; a larger balance is held by the gateway for a person
(``approval.payment-arrangement-above-100``), which then runs the approved call itself, once.
The amount is what the billing system says the invoice owes, read again in ``arrange``;
``decided`` reads whether the arrangement exists.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.billing.invoice_copy import period_name
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day, money
from agents.runtime.turn import Reply, Turn
from shared.yes_no import yes_no

MAX_INSTALMENTS = 12
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}
_COUNT = re.compile(
    r"\b(\d{1,2}|two|three|four|five|six|twelve)\s*(monthly\s+)?(instal+ments?|payments?|parts?|months?|goes)\b", re.I
)
_LATER = re.compile(
    r"\b(extend\w*|extension|more time|later|delay\w*|push\w* back|postpone\w*|next week|two weeks)\b", re.I
)


def instalments_asked(text: str) -> int | None:
    """How many payments the customer asked for: 1 for "more time", None when they did not say."""
    found = _COUNT.search(text)
    if found:
        word = found.group(1).lower()
        count = int(word) if word.isdigit() else _NUMBERS.get(word)
        return count if count and 1 <= count <= MAX_INSTALMENTS else None
    return 1 if _LATER.search(text) else None


class ArrangementState(SkillState, total=False):
    invoice_id: str
    period: str
    amount: float
    instalments: int
    asked: str
    approval_id: str | None


def _msisdn(turn: Turn) -> str:
    assert turn.keys is not None and turn.keys.msisdn is not None
    return turn.keys.msisdn


def _schedule_text(arrangement: dict[str, Any]) -> str:
    parts = [f"{money(p['amount'], 'GBP')} on {day(p['due_on'])}" for p in arrangement.get("schedule") or []]
    return ", ".join(parts)


async def look(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    msisdn = _msisdn(turn)
    invoices = (await turn.call("billing.list_invoices", {"msisdn": msisdn, "limit": 6})).get("invoices") or []
    arranged = (await turn.call("billing.list_payment_arrangements", {"msisdn": msisdn})).get("arrangements") or []
    done = {a["invoice_id"]: a for a in arranged}
    unpaid = [i for i in invoices if i.get("status") != "paid" and i["invoice_id"] not in done]
    if not unpaid:
        text = "You have nothing left to pay on your invoices right now, so there's nothing to spread out."
        if arranged:
            text = (
                f"Your payment plan for invoice {arranged[0]['invoice_id']} is in place: {_schedule_text(arranged[0])}."
            )
        await log_interaction(turn, summary="no unpaid invoice to arrange", outcome="resolved")
        return finish(turn.reply(text, "completed", summary="no unpaid invoice to arrange", data={"arranged": False}))
    invoice = unpaid[0]
    update = ArrangementState(
        invoice_id=invoice["invoice_id"], period=str(invoice.get("period")), amount=invoice["total"]
    )
    count = instalments_asked(f"{turn.handoff.reason} {turn.text}")
    if count is not None:
        return Command(goto="confirm", update={**update, "instalments": count})
    return Command(goto="choose", update=update)


async def choose(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    owed = money(state["amount"], "GBP")
    question = (
        f"Your {period_name(state['period'])} invoice ({state['invoice_id']}) has {owed} to pay. I can split it into "
        "monthly payments (up to 12), or move the payment two weeks later. How many payments would you like?"
    )
    if state.get("asked") == "count":
        question = (
            "How many monthly payments would you like (for example 3), or should I move the payment two weeks later?"
        )
    said = ask(turn.reply(question, "input-required", summary=f"asked how to spread {state['invoice_id']}"))
    count = instalments_asked(said) or (int(said.strip()) if said.strip().isdigit() else None)
    if count is None and yes_no(said) is False:
        return finish(turn.reply("OK, I haven't changed anything.", "completed", summary="no arrangement wanted"))
    if count is None or not 1 <= count <= MAX_INSTALMENTS:
        return Command(goto="choose", update={"asked": "count"})
    return Command(goto="confirm", update={"instalments": count})


async def confirm(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    count, owed = state["instalments"], money(state["amount"], "GBP")
    plan = (
        f"move the {owed} on invoice {state['invoice_id']} to a single payment two weeks later"
        if count == 1
        else f"split the {owed} on invoice {state['invoice_id']} into {count} monthly payments, the first in two weeks"
    )
    question = (
        "Shall I go ahead? Please answer yes or no."
        if state.get("asked") == "confirm"
        else f"Just to confirm: {plan}? (yes/no)"
    )
    answer = yes_no(ask(turn.reply(question, "input-required", summary=f"confirming {count} payments")))
    if answer is None:
        return Command(goto="confirm", update={"asked": "confirm"})
    if answer is False:
        return finish(turn.reply("OK, I haven't changed anything.", "completed", summary="arrangement declined"))
    return Command(goto="arrange")


async def arrange(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "arrange")
    msisdn = _msisdn(turn)
    # What the invoice owes now, from billing: never the figure shown turns ago.
    invoices = (await turn.call("billing.list_invoices", {"msisdn": msisdn, "limit": 6})).get("invoices") or []
    invoice = next((i for i in invoices if i["invoice_id"] == state["invoice_id"] and i.get("status") != "paid"), None)
    if invoice is None:
        return finish(
            turn.reply(
                "That invoice has been paid in the meantime, so there's nothing to arrange.",
                "completed",
                summary="invoice paid meanwhile",
            )
        )
    done = await turn.call(
        "billing.arrange_payment",
        {
            "msisdn": msisdn,
            "invoice_id": state["invoice_id"],
            "amount": invoice["total"],
            "instalments": state["instalments"],
        },
        step=f"arrange:{state['invoice_id']}",
    )
    if str(done.get("status", "")).startswith("pending_approval"):
        found = _APPROVAL_ID.search(str(done.get("detail", "")))
        approval_id = found.group(0) if found else None
        await log_interaction(
            turn, summary=f"payment arrangement awaits approval {approval_id or ''}", outcome="pending-approval"
        )
        return Command(goto="held", update={"approval_id": approval_id})
    return finish(await _arranged(turn, done))


async def held(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    ask(
        turn.reply(
            f"Spreading {money(state['amount'], 'GBP')} over {state['instalments']} payments needs a quick approval "
            "from a member of our team. I've asked for it, and I'll tell you here as soon as it's decided. "
            "You don't need to do anything else.",
            "input-required",
            summary=f"payment arrangement awaits approval {state.get('approval_id') or ''}".strip(),
            data={
                "arranged": False,
                "approval_pending": True,
                "approval_id": state.get("approval_id"),
                "amount": str(state["amount"]),
                "currency": "GBP",
            },
        )
    )
    return Command(goto="decided")


async def decided(state: ArrangementState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "arrange")
    arranged = (await turn.call("billing.list_payment_arrangements", {"msisdn": _msisdn(turn)})).get(
        "arrangements"
    ) or []
    made = next((a for a in arranged if a["invoice_id"] == state["invoice_id"]), None)
    if made is None:
        return finish(
            turn.reply(
                f"The payment plan for {money(state['amount'], 'GBP')} was not approved, "
                "so the invoice is due as before.",
                "completed",
                summary="payment arrangement not approved",
                data={"arranged": False, "approval_id": state.get("approval_id")},
            )
        )
    return finish(await _arranged(turn, made))


async def _arranged(turn: Turn, arrangement: dict[str, Any]) -> Reply:
    summary = f"payment arrangement {arrangement.get('arrangement_id')} for {arrangement.get('invoice_id')}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        f"Done. Your payments for invoice {arrangement.get('invoice_id')} are: {_schedule_text(arrangement)}. "
        f"Your reference is {arrangement.get('arrangement_id')}.",
        "completed",
        summary=summary,
        data={
            "arranged": True,
            "arrangement_id": arrangement.get("arrangement_id"),
            "instalments": arrangement.get("instalments"),
            "amount": arrangement.get("amount"),
        },
    )


def graph() -> StateGraph[ArrangementState, SkillContext, Any, Any]:
    g = StateGraph(ArrangementState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    for name, node in (
        ("look", look),
        ("choose", choose),
        ("confirm", confirm),
        ("arrange", arrange),
        ("held", held),
        ("decided", decided),
    ):
        g.add_node(name, node)
    g.set_entry_point(VERIFY_NODE)
    return g
