"""``explain-bill``: the latest invoice, line by line, against the month before. One turn."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import day, money


def _amount(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def _lines(invoice: dict[str, Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in invoice.get("lines") or []:
        name = str(line.get("description", "other"))
        totals[name] = totals.get(name, Decimal(0)) + _amount(line.get("amount"))
    return totals


def line_changes(latest: dict[str, Any], previous: dict[str, Any], currency: str | None) -> list[str]:
    """Sentences for each line that is new, gone or different between two invoices."""
    now, before = _lines(latest), _lines(previous)
    changes = []
    for name, amount in now.items():
        if name not in before:
            changes.append(f"{name}: {money(amount, currency)} (new this month)")
        elif amount != before[name]:
            changes.append(f"{name}: {money(amount, currency)} (was {money(before[name], currency)})")
    for name, amount in before.items():
        if name not in now:
            changes.append(f"{name}: no longer charged (was {money(amount, currency)})")
    return changes


async def explain_bill(turn: Turn) -> Reply:
    assert turn.keys is not None
    found = await turn.call("billing.list_invoices", {"msisdn": turn.keys.msisdn, "limit": 2})
    invoices = sorted(found.get("invoices") or [], key=lambda i: str(i.get("issued_on", "")), reverse=True)
    if not invoices:
        return turn.reply(
            "I can't see any bills on your account yet.",
            "completed",
            summary="no invoices",
            data={"invoices": 0},
        )
    latest = invoices[0]
    currency = latest.get("currency")
    total = _amount(latest.get("total"))
    period = latest.get("period") or day(latest.get("issued_on"))
    head = f"Your latest bill ({period}) is {money(total, currency)}."
    data: dict[str, Any] = {"invoice_id": latest.get("invoice_id"), "total": str(total)}
    if len(invoices) == 1:
        lines = [f"{n}: {money(a, currency)}" for n, a in _lines(latest).items()]
        text = head + " It is made up of:\n" + "\n".join(f"- {line}" for line in lines)
        summary = f"explained invoice {latest.get('invoice_id')}"
    else:
        previous = invoices[1]
        difference = total - _amount(previous.get("total"))
        data.update(previous_invoice_id=previous.get("invoice_id"), difference=str(difference))
        if difference == 0:
            compare = f" That's the same as the month before ({money(previous.get('total'), currency)})."
        else:
            word = "more" if difference > 0 else "less"
            compare = (
                f" That's {money(abs(difference), currency)} {word} than the month before "
                f"({money(previous.get('total'), currency)})."
            )
        changes = line_changes(latest, previous, currency)
        if changes:
            compare += " What changed:\n" + "\n".join(f"- {c}" for c in changes)
        text = head + compare
        sign = "+" if difference > 0 else ""
        summary = f"explained invoice {latest.get('invoice_id')}: {sign}{money(difference, currency)} vs previous month"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(text, "completed", summary=summary, data=data)


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(explain_bill, verified=("msisdn",))
