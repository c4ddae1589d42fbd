"""``switch-account``: a verified customer moves the conversation to another account they hold.

    start <-> wait (which account?) -> send_code -> wait -> check_code -> done

Holding one account proves nothing about another: the other account is verified like any first
verification, with a code sent to the contact details on *that* account (``verify-identity``'s
nodes, so the same caps, lock-outs and wording about unknown details apply). Its auth context then
replaces the conversation's; until the code matches, nothing of the other account is read or shown.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.identity.verify import ASKING_IDENTIFIER, VerifyState, check_code, identify, send_code
from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.steps import VERIFY_NODE, WAIT_NODE, say_then_wait, verified_first, wait
from agents.runtime.text import find_customer_hint

_ASK = (
    "Which account would you like to switch to? Please tell me its email address, mobile number or account "
    "number; I'll check it's yours before we go on."
)


async def start(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    hint = find_customer_hint(turn.text)
    if hint is None:
        return say_then_wait(_ASK, summary="asked which account to switch to", then="start", data=ASKING_IDENTIFIER)
    keys = turn.keys
    if keys is not None and hint.lower() in {
        str(v).lower() for v in (keys.email, keys.msisdn, keys.account_number) if v
    }:
        return finish(
            turn.reply(
                "That's the account we're already talking about. If you have another one, tell me its email "
                "address, mobile number or account number.",
                "completed",
                summary="asked to switch to the current account",
                data={"switched": False},
            )
        )
    return Command(goto="send_code", update={"identifier": hint})


def graph() -> StateGraph[VerifyState, SkillContext, Any, Any]:
    g = StateGraph(VerifyState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("customer_id", then="start"))
    for name, node in (
        ("start", start),
        ("identify", identify),
        ("send_code", send_code),
        ("check_code", check_code),
        (WAIT_NODE, wait),
    ):
        g.add_node(name, node)
    g.set_entry_point(VERIFY_NODE)
    return g
