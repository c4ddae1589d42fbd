"""``number-porting``: bringing a number from another provider, or the porting code (PAC) to leave.

    verify -> look -> [confirm (waits for yes/no) -> issue [-> held (waits for a person) -> issue]]

Bringing a number in needs the other provider's code, so the customer is told how it works. A
code to leave is issued only after the customer's yes, by the network; it refuses a line whose SIM
changed in the last days or that is locked after a fraud report, and the gateway holds the call for
a person while the customer is on a fraud hold: moving the number away is how a hijacked line is
kept, so each of those ends with a colleague, never with a code.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day
from agents.support.confirming import (
    CONFIRM_NODE,
    HELD_NODE,
    ConfirmState,
    confirm,
    held,
    held_for_approval,
    held_key,
    hold,
    propose,
)

_PORT_IN = re.compile(
    r"\b(bring|transfer|move|port|keep)\w* (my |our |the )?(old |existing |current )?(number|numbers|mobile number)"
    r"( over| across)? (to you|to northwind|in|with me|when i (join|switch))|"
    r"\b(from|leaving) (my old|my current|another|a different|the other) (network|provider|operator|carrier)\b|"
    r"\bport(ing)? in\b|\bjoin(ing)? you\b|\bswitch(ing)? to you\b",
    re.I,
)

PORT_IN = (
    "You can bring your number to us. Ask your current provider for your porting code (in the UK, text PAC to "
    "65075 from that phone; it's free and comes straight back). Then give us the code with the number when you "
    "order your SIM, and we'll move the number on the next working day: your new SIM takes over the number that "
    "morning, and your old contract ends with the move. Until then, keep using your old SIM as normal."
)

NOT_ISSUED = "Our team didn't approve the porting code, so no code has been issued and your number stays with us."


async def look(state: ConfirmState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    if _PORT_IN.search(turn.text):
        await log_interaction(turn, summary="explained bringing a number in", outcome="resolved")
        return finish(
            turn.reply(PORT_IN, "completed", summary="explained bringing a number in", data={"port_in": True})
        )
    return propose(
        "I can give you your porting code (PAC) now. Give it to your new provider within 30 days and they'll move "
        "your number, usually on the next working day. Your plan with us ends when the number moves, and any fee "
        "for leaving early shows on your final bill. Shall I issue your code? (yes/no)",
        summary="offered a porting code",
        declined="OK, I haven't issued a code. Your number stays with us as it is.",
        data={"port_in": False},
    )


async def issue(state: ConfirmState, runtime: Runtime[SkillContext]) -> Command[Any]:
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


def graph() -> StateGraph[ConfirmState, SkillContext, Any, Any]:
    g = StateGraph(ConfirmState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node(CONFIRM_NODE, confirm(then="issue", step="look"))
    g.add_node("issue", issue)
    g.add_node(HELD_NODE, held(then="issue", step="issue", not_done=NOT_ISSUED))
    g.set_entry_point(VERIFY_NODE)
    return g
