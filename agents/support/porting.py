"""``number-porting``: bringing a number from another provider, or the porting code (PAC) to leave.

    verify -> look -> [confirm (waits for yes/no) -> issue [-> held (waits for a person) -> issue]]
                   -> details ... port_in (``porting_in``)

Bringing a number in is booked once the customer gives the number and its porting code and says
yes (``porting_in``). A code to leave is issued only after the customer's yes, by the network; it
refuses a line whose SIM changed in the last days or that is locked after a fraud report, and the
gateway holds the call for a person while the customer is on a fraud hold: moving the number away
is how a hijacked line is kept, so each of those ends with a colleague, never with a code.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day
from agents.support import porting_in
from agents.support.confirming import (
    CONFIRM_NODE,
    HELD_NODE,
    confirm,
    held,
    held_for_approval,
    held_key,
    hold,
    propose,
)
from agents.support.porting_in import PortInState

NOT_DONE = (
    "Our team didn't approve the request, so nothing has changed: no porting code has been issued and no number has "
    "been moved."
)


async def look(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    if porting_in.wants_port_in(turn.text):
        return await porting_in.start(turn, state)
    return propose(
        "I can give you your porting code (PAC) now. Give it to your new provider within 30 days and they'll move "
        "your number, usually on the next working day. Your plan with us ends when the number moves, and any fee "
        "for leaving early shows on your final bill. Shall I issue your code? (yes/no)",
        summary="offered a porting code",
        declined="OK, I haven't issued a code. Your number stays with us as it is.",
        data={"port_in": False},
    )


async def issue(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "issue")
    assert turn.keys is not None
    try:
        key = held_key(state) or turn.idempotency_key("porting-code")
        code = await turn.call("network.issue_porting_code", {"msisdn": turn.keys.msisdn}, step="porting-code", key=key)
    except ToolFailed as refused:
        why = (
            "your SIM was changed very recently"
            if "SIM" in refused.detail
            else "your line is protected after a report of fraud"
        )
        summary = "porting code refused by the network: " + refused.detail[:120]
        await log_interaction(turn, summary=summary, outcome="handed-over")
        return finish(
            turn.reply(
                f"For your security I can't issue a porting code straight away, because {why}. A member of our team "
                "can check it's really you and issue the code. Would you like me to put you through?",
                "completed",
                summary=summary,
                handoff_to=HUMAN.model_copy(update={"reason": "porting code refused: " + why, "priority": "high"}),
                data={"issued": False, "held": True},
            )
        )
    approval = held_for_approval(code)
    if approval is not None:
        summary = "porting code waits for a colleague's check"
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        return hold(
            "For your security, a member of our team needs to check this request before the code is issued. "
            "I've asked them to, and I'll give you the code here as soon as it's approved; nothing changes on your "
            "line in the meantime.",
            summary=summary,
            approval_id=approval,
            key=key,
            data={"issued": False},
        )
    summary = f"porting code issued, valid until {code.get('expires_on')}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"Your porting code is {code.get('code')}, valid until {day(code.get('expires_on'))}. Give it to your new "
            "provider with your number; they'll arrange the move, and your service with us stops when it happens.",
            "completed",
            summary=summary,
            data={"issued": True, "code": code.get("code"), "expires_on": code.get("expires_on")},
        )
    )


async def write(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    """After the yes, or a person's approval: the write the customer agreed to, a move in or a code out."""
    return Command(goto=porting_in.PORT_IN_NODE if state.get("number") else "issue")


def graph() -> StateGraph[PortInState, SkillContext, Any, Any]:
    g = StateGraph(PortInState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node(porting_in.DETAILS_NODE, porting_in.details)
    g.add_node("propose_port_in", porting_in.propose_port_in)
    g.add_node(CONFIRM_NODE, confirm(then="write", step="look"))
    g.add_node("write", write)
    g.add_node("issue", issue)
    g.add_node(porting_in.PORT_IN_NODE, porting_in.port_in)
    g.add_node(HELD_NODE, held(then="write", step="issue", not_done=NOT_DONE))
    g.set_entry_point(VERIFY_NODE)
    return g
