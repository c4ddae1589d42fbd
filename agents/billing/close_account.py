"""``close-account``: what closing costs and when, a yes, then a closure a person approves.

    verify -> look -> confirm (waits for yes/no) -> close -> held (waits for the approval) -> decided

The gateway holds every closure for a person (``approval.account-closure``) and runs the approved
call itself, once; ``decided`` reads from the billing system whether the account is closing. The
exit fee and the closing date are the billing system's, never the caller's.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.billing.contract import _date
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import money
from agents.runtime.turn import Turn
from shared.yes_no import yes_no

_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")


class CloseState(SkillState, total=False):
    quote: str
    asked: bool
    approval_id: str | None


def _msisdn(turn: Turn) -> str:
    assert turn.keys is not None and turn.keys.msisdn is not None
    return turn.keys.msisdn


def _closing_text(closure: dict[str, Any]) -> str:
    fee = float(closure.get("exit_fee") or 0)
    owed = f" The exit fee of {money(fee, 'GBP')} will be on your final bill." if fee else ""
    return f"Your account is closing: your service ends on {_date(closure.get('closes_on'))}.{owed}"


async def look(state: CloseState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    msisdn = _msisdn(turn)
    existing = await turn.call("billing.get_account_closure", {"msisdn": msisdn})
    if existing.get("closing") and existing.get("closure"):
        text = _closing_text(existing["closure"])
        return finish(turn.reply(text, "completed", summary="account already closing", data={"closing": True}))
    contract = await turn.call("billing.get_contract", {"msisdn": msisdn})
    account = await turn.call("billing.get_account", {"msisdn": msisdn})
    notice = contract.get("notice_days", 30)
    quote = f"Closing your account ends your {contract.get('plan_name') or ''} plan after {notice} days' notice"
    if contract.get("in_minimum_term"):
        quote += (
            f". You're in your minimum term until {_date(contract.get('ends_on'))}, so closing now costs an exit fee "
            f"of {money(contract.get('early_exit_fee'), 'GBP')}"
        )
    else:
        quote += ", with no exit fee (your minimum term has ended)"
    if float(account.get("balance_due") or 0) > 0:
        quote += f", and {money(account.get('balance_due'), 'GBP')} still due on your bill is payable"
    return Command(goto="confirm", update={"quote": quote + "."})


async def confirm(state: CloseState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    question = (
        "Would you like me to ask for your account to be closed? Please answer yes or no."
        if state.get("asked")
        else f"{state['quote']} A member of our team approves every closure. Would you like me to ask for your "
        "account to be closed? (yes/no)"
    )
    answer = yes_no(ask(turn.reply(question, "input-required", summary="quoted closing the account")))
    if answer is None:
        return Command(goto="confirm", update={"asked": True})
    if answer is False:
        await log_interaction(turn, summary="decided to keep the account", outcome="resolved")
        return finish(
            turn.reply("OK, your account stays open; nothing has changed.", "completed", summary="kept the account")
        )
    return Command(goto="close")


async def close(state: CloseState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "close")
    done = await turn.call(
        "billing.close_account",
        {"msisdn": _msisdn(turn), "reason": "customer asked to close the account"},
        step="close-account",
    )
    if str(done.get("status", "")).startswith("pending_approval"):
        found = _APPROVAL_ID.search(str(done.get("detail", "")))
        approval_id = found.group(0) if found else None
        await log_interaction(
            turn, summary=f"account closure awaits approval {approval_id or ''}", outcome="pending-approval"
        )
        return Command(goto="held", update={"approval_id": approval_id})
    return Command(goto="decided")


async def held(state: CloseState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    ask(
        turn.reply(
            "I've asked a member of our team to approve closing your account. I'll tell you here as soon as it's "
            "decided; you don't need to do anything else.",
            "input-required",
            summary=f"account closure awaits approval {state.get('approval_id') or ''}".strip(),
            data={"closing": False, "approval_pending": True, "approval_id": state.get("approval_id")},
        )
    )
    return Command(goto="decided")


async def decided(state: CloseState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "close")
    status = await turn.call("billing.get_account_closure", {"msisdn": _msisdn(turn)})
    closure = status.get("closure")
    if not status.get("closing") or not closure:
        return finish(
            turn.reply(
                "Closing your account was not approved, so it stays open. A colleague can talk it through with you "
                "if you'd like.",
                "completed",
                summary="account closure not approved",
                data={"closing": False, "approval_id": state.get("approval_id")},
            )
        )
    summary = f"account closing on {closure.get('closes_on')} ({closure.get('closure_id')})"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"{_closing_text(closure)} Your reference is {closure.get('closure_id')}.",
            "completed",
            summary=summary,
            data={"closing": True, "closure_id": closure.get("closure_id"), "closes_on": closure.get("closes_on")},
        )
    )


def graph() -> StateGraph[CloseState, SkillContext, Any, Any]:
    g = StateGraph(CloseState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    for name, node in (("look", look), ("confirm", confirm), ("close", close), ("held", held), ("decided", decided)):
        g.add_node(name, node)
    g.set_entry_point(VERIFY_NODE)
    return g
