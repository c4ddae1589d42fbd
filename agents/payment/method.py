"""``payment-method``: the card on file, autopay, and why a payment failed. One turn.

A declined payment is usually an expired card or autopay switched off; both are read from the
payments system, with the invoices still unpaid from billing. Card numbers never go through a
conversation: a new card is added by the customer in the app or on the website.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import money

_AUTOPAY = re.compile(r"\b(auto[ -]?pay\w*|direct debit|automatic(ally)? pay\w*|pay (it )?automatically)\b", re.I)
_OFF = re.compile(r"\b(stop|cancel|turn off|switch off|disable|remove|don'?t want)\b", re.I)


def _expiry(value: str) -> str:
    year, _, month = value.partition("-")
    return f"{month}/{year}"


async def payment_method(turn: Turn) -> Reply:
    assert turn.keys is not None
    text = f"{turn.handoff.reason} {turn.text}"
    account = turn.keys.account_number
    method = await turn.call("payments.get_payment_method", {"account_number": account})
    invoices = (await turn.call("billing.list_invoices", {"msisdn": turn.keys.msisdn, "limit": 3})).get(
        "invoices"
    ) or []
    unpaid = [i for i in invoices if i.get("status") != "paid"]
    changed = None
    if _AUTOPAY.search(text):
        wanted = not _OFF.search(text)
        if bool(method.get("autopay")) != wanted:
            method = await turn.call(
                "payments.set_autopay",
                {"account_number": account, "enabled": wanted},
                step=f"autopay:{'on' if wanted else 'off'}",
            )
            changed = wanted
    card = f"the card ending {method.get('card_last4')}"
    parts = []
    for invoice in unpaid:
        parts.append(
            f"Your {invoice.get('period')} invoice {invoice.get('invoice_id')} for "
            f"{money(invoice.get('total'), 'GBP')} is still unpaid."
        )
    if method.get("card_expired"):
        parts.append(
            f"The payment card on file, {card}, expired at the end of {_expiry(str(method.get('card_expiry')))}, "
            "which is why payments to it are declined."
        )
    else:
        parts.append(f"Payments are taken from {card}, valid until {_expiry(str(method.get('card_expiry')))}.")
    if changed is True:
        parts.append("I've switched on autopay, so each new invoice is paid from that card when it's issued.")
    elif changed is False:
        parts.append("I've switched off autopay; you'll need to pay each invoice yourself from now on.")
    else:
        parts.append(
            "Autopay is on, so each invoice is paid automatically."
            if method.get("autopay")
            else "Autopay is off, so invoices are not paid automatically; I can switch it on if you'd like."
        )
    if method.get("card_expired") or unpaid or re.search(r"\b(new|change|update|different)\b.*\bcard\b", text, re.I):
        parts.append(
            "To add a new card, please use the app or our website; for your security we never take card "
            "numbers in a chat or on a call."
        )
    summary = (
        f"card {method.get('card_last4')}{' expired' if method.get('card_expired') else ''}, "
        f"autopay {'on' if method.get('autopay') else 'off'}, {len(unpaid)} unpaid"
    )
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        " ".join(parts),
        "completed",
        summary=summary,
        data={
            "card_expired": bool(method.get("card_expired")),
            "autopay": bool(method.get("autopay")),
            "autopay_changed": changed,
            "unpaid": [i.get("invoice_id") for i in unpaid],
        },
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(payment_method, verified=("account_number", "msisdn"))
