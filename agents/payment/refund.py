"""``refund-charge``: find the duplicate, propose the refund, refund on a yes.

    verify -> find [-> pick (waits for which one)] -> confirm (waits for yes/no) -> refund
        [-> held (waits for the approval) -> decided]

With several duplicates the customer is shown them and picks one the way people do ("the second
charge", "the one from last Tuesday", "the £16 one"; ``agents.runtime.references``).

The charge proposed is kept on the server; ``refund`` reads that charge again from the payments
system at the moment it acts and refunds what is refundable then, whatever the caller says. When
the gateway holds the refund for a human approval, the task waits in ``held``; the gateway runs
the approved call itself (once, under the task's idempotency key), and when the caller continues
the task, ``decided`` reads from the payments system whether the refund exists. The message that
continues the task says nothing the skill believes.

Each node names its skill step with its calls (``find`` before the yes, ``refund`` after it, as
SKILL.md declares), so the gateway refuses a refund from anywhere but the step after the yes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.references import Resolved, Shown, resolve
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day, find_amount, money, parse_time
from agents.runtime.turn import Reply, Turn
from shared.yes_no import yes_no

_RECENT = 5
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")


class RefundState(SkillState, total=False):
    duplicates: list[dict[str, Any]]
    """The duplicates listed for the customer to pick from, in the order shown."""
    among: list[str]
    """The charge ids a clarifying question named: "the first" then means the first of those."""
    question: str
    charge_id: str
    invoice_id: str | None
    amount: str
    currency: str | None
    charged_at: str | None
    asked: bool
    approval_id: str | None
    held_amount: str


def _approval_id(detail: str) -> str | None:
    """The gateway names the approval first in its APPROVAL_REQUIRED sentence."""
    found = _APPROVAL_ID.search(detail)
    return found.group(0) if found else None


_KEPT = ("charge_id", "invoice_id", "amount", "currency", "charged_at")


def _shown(duplicates: list[dict[str, Any]]) -> list[Shown]:
    """The duplicates as listed to the customer, for "the second", "last Tuesday's", "the £16 one"."""
    shown = []
    for dup in duplicates:
        at = parse_time(dup.get("charged_at"))
        invoice = f" (invoice {dup['invoice_id']})" if dup.get("invoice_id") else ""
        shown.append(
            Shown(
                label=f"{money(dup.get('amount'), dup.get('currency'))} on {day(dup.get('charged_at'))}{invoice}",
                amount=Decimal(str(dup.get("amount"))),
                on=at.date() if at else None,
            )
        )
    return shown


def _choose_duplicate(text: str, duplicates: list[dict[str, Any]]) -> dict[str, Any] | Resolved | None:
    """The one duplicate, or the one the customer's words point at; several left is a question."""
    if len(duplicates) == 1:
        return duplicates[0]
    referred = resolve(text, _shown(duplicates), datetime.now(UTC).date())
    if referred.index is not None:
        return duplicates[referred.index]
    wanted = find_amount(text) if not referred.clue else None
    matching = [d for d in duplicates if wanted is not None and Decimal(str(d.get("amount"))) == wanted]
    if len(matching) == 1:
        return matching[0]
    return referred if referred.clue else None


def _chosen(dup: dict[str, Any]) -> RefundState:
    return RefundState(
        charge_id=dup["charge_id"],
        invoice_id=dup.get("invoice_id"),
        amount=str(dup["amount"]),
        currency=dup.get("currency"),
        charged_at=dup.get("charged_at"),
    )


def _account(turn: Turn) -> str | None:
    assert turn.keys is not None
    return turn.keys.account_number


async def find(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "find")
    found = await turn.call("payments.find_duplicate_charges", {"account_number": _account(turn)})
    duplicates = found.get("duplicates") or []
    if not duplicates:
        return finish(await _no_duplicate(turn))
    dup = _choose_duplicate(turn.text, duplicates)
    if isinstance(dup, dict):
        return Command(goto="confirm", update=_chosen(dup))
    listed = [{k: d.get(k) for k in _KEPT} for d in duplicates]
    return Command(goto="pick", update=RefundState(duplicates=listed, among=[d["charge_id"] for d in listed]))


def _which_prompt(turn: Turn, state: RefundState) -> Reply:
    if state.get("question"):
        return turn.reply(state["question"], "input-required", summary="asked which of the duplicates they meant")
    rows = "\n".join(f"{i}. {s.label}" for i, s in enumerate(_shown(state["duplicates"]), start=1))
    return turn.reply(
        f"I can see {len(state['duplicates'])} duplicate charges on your account:\n{rows}\n"
        "Which one should I refund? You can say which by its place in the list, its date or its amount.",
        "input-required",
        summary=f"showed {len(state['duplicates'])} duplicate charges",
        # Channels can offer the charges as buttons.
        data={"duplicates": state["duplicates"]},
    )


async def pick(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    answer = ask(_which_prompt(turn, state))
    pool = [d for d in state["duplicates"] if d["charge_id"] in state.get("among", [])] or state["duplicates"]
    chosen = _choose_duplicate(answer, pool) if len(pool) > 1 else _choose_duplicate(answer, state["duplicates"])
    if isinstance(chosen, dict):
        return Command(goto="confirm", update={**_chosen(chosen), "question": ""})
    if yes_no(answer) is False:
        return finish(
            turn.reply(
                "OK, I haven't refunded anything.",
                "completed",
                summary="refund declined by the customer",
                data={"refunded": False},
            )
        )
    if isinstance(chosen, Resolved):  # resolved against ``pool``: its candidates index that list
        named = [pool[i]["charge_id"] for i in chosen.candidates] or [d["charge_id"] for d in pool]
        return Command(goto="pick", update={"question": chosen.question(_shown(pool), "charge"), "among": named})
    question = Resolved(None).question(_shown(pool), "charge")
    return Command(goto="pick", update={"question": question})


async def _no_duplicate(turn: Turn) -> Reply:
    listed = await turn.call("payments.list_charges", {"account_number": _account(turn), "limit": _RECENT})
    charges = (listed.get("charges") or [])[:_RECENT]
    rows = "\n".join(
        f"- {day(c.get('charged_at'))}: {money(c.get('amount'), c.get('currency'))} ({c.get('status', 'paid')})"
        for c in charges
    )
    text = "I couldn't find a duplicate charge on your account."
    if rows:
        text += f" Your recent charges are:\n{rows}\n"
    text += " If something still looks wrong, I can connect you with a member of our team."
    await log_interaction(turn, summary="no duplicate charge found", outcome="no-action")
    return turn.reply(
        text, "completed", summary="no duplicate charge found", data={"duplicate_found": False, "refunded": False}
    )


def _proposal(turn: Turn, state: RefundState) -> Reply:
    amount = money(state["amount"], state.get("currency"))
    if state.get("asked"):
        return turn.reply(
            f"Shall I refund the {amount}? Please answer yes or no.",
            "input-required",
            summary="waiting for refund confirmation",
        )
    invoice = f" for invoice {state['invoice_id']}" if state.get("invoice_id") else ""
    return turn.reply(
        f"I can see a duplicate charge of {amount} on {day(state.get('charged_at'))}{invoice}. "
        f"Would you like me to refund the {amount}? (yes/no)",
        "input-required",
        summary=f"proposed refund of {amount} for duplicate {state['charge_id']}",
        data={"charge_id": state["charge_id"], "amount": state["amount"]},
    )


async def confirm(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    answer = yes_no(ask(_proposal(turn, state)))
    if answer is None:
        return Command(goto="confirm", update={"asked": True})
    if answer is False:
        return finish(
            turn.reply(
                "OK, I haven't refunded anything.",
                "completed",
                summary="refund declined by the customer",
                data={"refunded": False},
            )
        )
    return Command(goto="refund")


async def refund(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "refund")
    account = _account(turn)
    # Read the charge again now: it may have been refunded, or stopped being a duplicate, since the
    # proposal; the amount is what the payments system says is refundable, never a caller's figure.
    found = await turn.call("payments.find_duplicate_charges", {"account_number": account})
    current = next((d for d in found.get("duplicates") or [] if d.get("charge_id") == state["charge_id"]), None)
    refundable = Decimal(str(current.get("refundable_amount", 0))) if current else Decimal(0)
    if current is None or refundable <= 0:
        return finish(
            turn.reply(
                "That charge can't be refunded any more: it has already been refunded or no longer shows as a "
                "duplicate. If something still looks wrong, I can connect you with a member of our team.",
                "completed",
                summary=f"charge {state['charge_id']} no longer refundable",
                data={"refunded": False, "charge_id": state["charge_id"]},
            )
        )
    currency = current.get("currency") or state.get("currency")
    done = await turn.call(
        "payments.issue_refund",
        {
            "account_number": account,
            "charge_id": state["charge_id"],
            "amount": float(refundable),
            "reason": "duplicate charge",
        },
        step=f"refund:{state['charge_id']}",
    )
    if str(done.get("status", "")).startswith(("pending_approval", "approval")):
        approval_id = _approval_id(str(done.get("detail", "")))
        summary = f"refund of {state['charge_id']} awaits approval {approval_id or ''}".strip()
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        update = {"approval_id": approval_id, "held_amount": str(refundable), "currency": currency}
        return Command(goto="held", update=update)
    return finish(await _refunded(turn, state["charge_id"], str(refundable), currency, done))


async def held(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    ask(
        turn.reply(
            f"A refund of {money(state['held_amount'], state.get('currency'))} needs a quick approval from a "
            "member of our team. I've asked for it, and it will go through once approved; I'll tell you here as "
            "soon as it's decided. You don't need to do anything else.",
            "input-required",
            summary=f"refund of {state['charge_id']} awaits approval {state.get('approval_id') or ''}".strip(),
            data={
                "refunded": False,
                "approval_pending": True,
                "approval_id": state.get("approval_id"),
                "charge_id": state["charge_id"],
                "amount": state["held_amount"],
                "currency": state.get("currency"),
            },
        )
    )
    return Command(goto="decided")


async def decided(state: RefundState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "refund")
    listed = await turn.call("payments.list_refunds", {"account_number": _account(turn)})
    issued = next(
        (
            r
            for r in listed.get("refunds") or []
            if r.get("charge_id") == state["charge_id"]
            and Decimal(str(r.get("amount"))) == Decimal(state["held_amount"])
        ),
        None,
    )
    shown = money(state["held_amount"], state.get("currency"))
    if issued is None:
        return finish(
            turn.reply(
                f"The refund of {shown} was not approved, so nothing has been refunded.",
                "completed",
                summary=f"refund of {state['charge_id']} not approved",
                data={"refunded": False, "charge_id": state["charge_id"], "approval_id": state.get("approval_id")},
            )
        )
    return finish(
        turn.reply(
            f"Good news: your refund of {shown} has been approved and issued (reference {issued.get('refund_id')}). "
            "It usually reaches your card within 3 to 5 working days.",
            "completed",
            summary=f"refund of {shown} for {state['charge_id']} approved and issued",
            data={
                "refunded": True,
                "refund_id": issued.get("refund_id"),
                "charge_id": state["charge_id"],
                "amount": state["held_amount"],
                "currency": state.get("currency"),
                "approval_id": state.get("approval_id"),
            },
        )
    )


async def _refunded(turn: Turn, charge_id: str, amount: str, currency: str | None, done: dict[str, Any]) -> Reply:
    shown = money(amount, currency)
    summary = f"refunded {shown} for duplicate charge {charge_id}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        f"Done. I've refunded {shown}; your refund reference is {done.get('refund_id')}. "
        "It usually reaches your card within 3 to 5 working days.",
        "completed",
        summary=summary,
        data={
            "refunded": True,
            "refund_id": done.get("refund_id"),
            "charge_id": charge_id,
            "amount": amount,
            "currency": currency,
            "status": done.get("status"),
        },
    )


def graph() -> StateGraph[RefundState, SkillContext, Any, Any]:
    g = StateGraph(RefundState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("account_number", then="find"))
    g.add_node("find", find)
    g.add_node("pick", pick)
    g.add_node("confirm", confirm)
    g.add_node("refund", refund)
    g.add_node("held", held)
    g.add_node("decided", decided)
    g.set_entry_point(VERIFY_NODE)
    return g
