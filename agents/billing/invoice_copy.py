"""``invoice-copy``: find the invoice the customer means, confirm, email a copy to the address on record.

    verify -> find -> confirm (waits for yes/no) -> send

The copy goes to the billing email address the billing system holds; nothing the customer types
can change where it goes (``update-contact`` changes the address, after a step-up). ``send`` reads
the invoices again before it acts, and names the ``send`` step of SKILL.md, so the gateway allows
the write only after the yes.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import money
from agents.runtime.turn import Turn
from shared.yes_no import yes_no

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name} | {
    name.lower(): n for n, name in enumerate(calendar.month_abbr) if name
}
_INVOICE_ID = re.compile(r"\bINV-[0-9A-Z-]{4,30}\b", re.IGNORECASE)


def period_name(period: str) -> str:
    """ "2026-03" as people say it: "March 2026"."""
    year, _, month = period.partition("-")
    return f"{calendar.month_name[int(month)]} {year}" if month.isdigit() and 1 <= int(month) <= 12 else period


def _month(text: str) -> int | None:
    lowered = text.lower()
    for word in re.findall(r"[a-z]+", lowered):
        if word in _MONTHS and not (word == "may" and re.search(r"\bmay (i|you|we)\b", lowered)):
            return _MONTHS[word]
    return None


def pick_invoice(text: str, invoices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The invoice the customer names by id or month ("my March bill"), else the latest; None if none match."""
    if not invoices:
        return None
    named = _INVOICE_ID.search(text)
    if named:
        return next((i for i in invoices if i["invoice_id"].upper() == named.group(0).upper()), None)
    month = _month(text)
    if month is not None:
        return next((i for i in invoices if str(i.get("period", "")).endswith(f"-{month:02d}")), None)
    if re.search(r"\b(last month|previous|before)\b", text, re.IGNORECASE) and len(invoices) > 1:
        return invoices[1]
    return invoices[0]


class CopyState(SkillState, total=False):
    invoice_id: str
    period: str
    total: float
    asked: bool


def _account(turn: Turn) -> str:
    assert turn.keys is not None and turn.keys.msisdn is not None
    return turn.keys.msisdn


async def find(state: CopyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "find")
    listed = await turn.call("billing.list_invoices", {"msisdn": _account(turn), "limit": 12})
    invoices = listed.get("invoices") or []
    chosen = pick_invoice(f"{turn.handoff.reason} {turn.text}", invoices)
    if chosen is None:
        shown = ", ".join(period_name(str(i.get("period"))) for i in invoices[:6]) or "none yet"
        await log_interaction(turn, summary="invoice asked for not found", outcome="no-action")
        return finish(
            turn.reply(
                f"I couldn't find that invoice on your account. The invoices I can send are for: {shown}. "
                "Which one would you like?",
                "completed",
                summary="invoice asked for not found",
                data={"sent": False},
            )
        )
    update = CopyState(invoice_id=chosen["invoice_id"], period=str(chosen.get("period")), total=chosen["total"])
    return Command(goto="confirm", update=update)


async def confirm(state: CopyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    name = period_name(state["period"])
    question = (
        "Shall I send it? Please answer yes or no."
        if state.get("asked")
        else f"I can email a copy of your {name} invoice ({state['invoice_id']}, {money(state['total'], 'GBP')}) "
        "to the billing email address on your account. Shall I send it? (yes/no)"
    )
    said = ask(turn.reply(question, "input-required", summary=f"offered a copy of {state['invoice_id']}"))
    answer = yes_no(said)
    if answer is None:
        return Command(goto="confirm", update={"asked": True})
    if answer is False:
        return finish(
            turn.reply("OK, I haven't sent anything.", "completed", summary="copy declined", data={"sent": False})
        )
    return Command(goto="send")


async def send(state: CopyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "send")
    sent = await turn.call(
        "billing.send_invoice_copy",
        {"msisdn": _account(turn), "invoice_id": state["invoice_id"]},
        step=f"invoice-copy:{state['invoice_id']}",
    )
    summary = f"sent a copy of invoice {state['invoice_id']} ({sent.get('copy_id')})"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"Done. I've emailed a copy of your {period_name(state['period'])} invoice to {sent.get('sent_to')}, "
            "the billing address on your account. You can also download every invoice in the app or on our website.",
            "completed",
            summary=summary,
            data={"sent": True, "invoice_id": state["invoice_id"], "copy_id": sent.get("copy_id")},
        )
    )


def graph() -> StateGraph[CopyState, SkillContext, Any, Any]:
    g = StateGraph(CopyState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="find"))
    g.add_node("find", find)
    g.add_node("confirm", confirm)
    g.add_node("send", send)
    g.set_entry_point(VERIFY_NODE)
    return g
