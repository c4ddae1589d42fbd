"""``payment-method``: the card on file, autopay, and why a payment failed.

    verify -> review -> wait (autopay change proposed) -> confirm (yes/no) -> switch

A declined payment is usually an expired card or autopay switched off; both are read from the
payments system, with the invoices still unpaid from billing, in the SKILL.md step ``review``,
which only reads. Switching autopay is proposed there and made in the step ``autopay`` on the turn
the customer says yes. Card numbers never go through a conversation: a new card is added by the
customer in the app or on the website.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Reply, Turn
from agents.runtime.graph import SkillContext, SkillState, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, WAIT_NODE, Prompt, in_step, say_then_wait, verified_first, wait
from agents.runtime.text import money
from shared.yes_no import yes_no

_AUTOPAY = re.compile(r"\b(auto[ -]?pay\w*|direct debit|automatic(ally)? pay\w*|pay (it )?automatically)\b", re.I)
_OFF = re.compile(r"\b(stop|cancel|turn off|switch off|disable|remove|don'?t want)\b", re.I)


def _expiry(value: str) -> str:
    year, _, month = value.partition("-")
    return f"{month}/{year}"


class MethodState(SkillState, total=False):
    wanted: bool
    card: str
    prompt: Prompt


def _card(method: dict[str, Any]) -> str:
    return f"the card ending {method.get('card_last4')}"


def _findings(text: str, method: dict[str, Any], invoices: list[dict[str, Any]]) -> list[str]:
    parts = []
    for invoice in invoices:
        if invoice.get("status") != "paid":
            parts.append(
                f"Your {invoice.get('period')} invoice {invoice.get('invoice_id')} for "
                f"{money(invoice.get('total'), 'GBP')} is still unpaid."
            )
    card = _card(method)
    if method.get("card_expired"):
        parts.append(
            f"The payment card on file, {card}, expired at the end of {_expiry(str(method.get('card_expiry')))}, "
            "which is why payments to it are declined."
        )
    else:
        parts.append(f"Payments are taken from {card}, valid until {_expiry(str(method.get('card_expiry')))}.")
    unpaid = any(i.get("status") != "paid" for i in invoices)
    if method.get("card_expired") or unpaid or re.search(r"\b(new|change|update|different)\b.*\bcard\b", text, re.I):
        parts.append(
            "To add a new card, please use the app or our website; for your security we never take card "
            "numbers in a chat or on a call."
        )
    return parts


async def review(state: MethodState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "review")
    assert turn.keys is not None
    text = f"{turn.handoff.reason} {turn.text}"
    method = await turn.call("payments.get_payment_method", {"account_number": turn.keys.account_number})
    listed = await turn.call("billing.list_invoices", {"msisdn": turn.keys.msisdn, "limit": 3})
    invoices: list[dict[str, Any]] = listed.get("invoices") or []
    parts = _findings(text, method, invoices)
    wanted = not _OFF.search(text) if _AUTOPAY.search(text) else None
    if wanted is not None and bool(method.get("autopay")) != wanted:
        question = (
            f"Shall I switch on autopay, so each new invoice is paid from {_card(method)} when it's issued? (yes/no)"
            if wanted
            else "Shall I switch off autopay? You'd then pay each invoice yourself. (yes/no)"
        )
        return say_then_wait(
            " ".join([*parts, question]),
            summary=f"proposed autopay {'on' if wanted else 'off'}",
            then="confirm",
            data={"autopay": bool(method.get("autopay")), "autopay_wanted": wanted},
            update={"wanted": wanted},
        )
    parts.append(
        "Autopay is on, so each invoice is paid automatically."
        if method.get("autopay")
        else "Autopay is off, so invoices are not paid automatically; I can switch it on if you'd like."
    )
    return finish(await _told(turn, method, invoices, " ".join(parts), changed=None))


async def confirm(state: MethodState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "review")
    answer = yes_no(turn.text)
    if answer is None:
        return say_then_wait(
            f"Sorry, should I switch autopay {'on' if state['wanted'] else 'off'}? Please answer yes or no.",
            summary="waiting for a yes or no to autopay",
            then="confirm",
        )
    if answer is False:
        return finish(
            turn.reply(
                "OK, I've left autopay as it is.",
                "completed",
                summary="autopay change declined",
                data={"autopay_changed": None},
            )
        )
    return Command(goto="switch")


async def switch(state: MethodState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "autopay")
    assert turn.keys is not None
    wanted, account = state["wanted"], turn.keys.account_number
    method = await turn.call("payments.get_payment_method", {"account_number": account})
    changed = None
    if bool(method.get("autopay")) != wanted:  # it may have been switched meanwhile, in the app
        method = await turn.call(
            "payments.set_autopay",
            {"account_number": account, "enabled": wanted},
            step=f"autopay:{'on' if wanted else 'off'}",
        )
        changed = wanted
    text = (
        f"I've switched on autopay, so each new invoice is paid from {_card(method)} when it's issued."
        if wanted
        else "I've switched off autopay; you'll need to pay each invoice yourself from now on."
    )
    return finish(await _told(turn, method, [], text, changed=changed))


async def _told(
    turn: Turn, method: dict[str, Any], invoices: list[dict[str, Any]], text: str, *, changed: bool | None
) -> Reply:
    unpaid = [i for i in invoices if i.get("status") != "paid"]
    summary = (
        f"card {method.get('card_last4')}{' expired' if method.get('card_expired') else ''}, "
        f"autopay {'on' if method.get('autopay') else 'off'}, {len(unpaid)} unpaid"
    )
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        data={
            "card_expired": bool(method.get("card_expired")),
            "autopay": bool(method.get("autopay")),
            "autopay_changed": changed,
            "unpaid": [i.get("invoice_id") for i in unpaid],
        },
    )


def graph() -> StateGraph[MethodState, SkillContext, Any, Any]:
    g = StateGraph(MethodState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("account_number", "msisdn", then="review"))
    g.add_node("review", review)
    g.add_node(WAIT_NODE, wait)
    g.add_node("confirm", confirm)
    g.add_node("switch", switch)
    g.set_entry_point(VERIFY_NODE)
    return g
