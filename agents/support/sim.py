"""``esim-activation``: switching on a new SIM we sent, or moving the number to an eSIM, after a yes.

    verify -> look -> [confirm (waits for yes/no) -> activate [-> held (waits for a person) -> activate]]

``look`` reads the line's SIM: a SIM we sent and not yet activated is offered for activation; a
customer asking for an eSIM (or a QR code) is offered one, with a word when the phone on record
cannot take it; otherwise they hear the SIM's state and what to try. Either activation makes the
old SIM stop working, which the customer hears before saying yes. A line locked after a fraud
report goes to a person.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import day
from agents.runtime.turn import Reply, Turn
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

_ESIM = re.compile(r"\b(e[- ]?sim|esim|qr|e sim|digital sim|embedded sim)\b", re.I)
_NOT_WORKING = (
    "If a new SIM isn't working yet: switch the phone off, check the SIM is seated the right way round, switch it on "
    "and give it a few minutes to find the network. If it still says No SIM or SOS only, restart it once more."
)

NOT_ACTIVATED = "Our team didn't approve the new SIM, so nothing has changed: your current SIM keeps working."


class SimState(ConfirmState, total=False):
    sim_type: Literal["physical", "esim"]


async def look(state: SimState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    assert turn.keys is not None
    sim = await turn.call("network.get_sim", {"msisdn": turn.keys.msisdn})
    data = {"sim_status": sim.get("sim_status"), "sim_type": sim.get("sim_type")}
    if sim.get("locked"):
        return finish(_locked(turn))
    waiting = sim.get("waiting_sim")
    if _ESIM.search(turn.text):
        device = sim.get("device_model") or "phone"
        note = (
            ""
            if sim.get("esim_capable", True)
            else f"The {device} we have on record can't hold an eSIM, so this is only for a phone that can. "
        )
        return propose(
            note + "I can move your number to an eSIM now: you'll get a code to scan as a QR code or type in, and "
            "your current SIM card stops working as soon as the eSIM is active. Shall I set it up? (yes/no)",
            summary="offered an eSIM",
            declined="OK, I haven't changed anything; your current SIM keeps working.",
            data=data,
            update={"sim_type": "esim"},
        )
    if isinstance(waiting, dict):
        return propose(
            f"I can see the new SIM we sent you (order {waiting.get('order_id')}). Once I activate it, it takes over "
            "your number and the old SIM stops working. Is the new SIM in your phone and shall I activate it now? "
            "(yes/no)",
            summary=f"offered to activate SIM order {waiting.get('order_id')}",
            declined="OK, I haven't activated it. Just ask me when you're ready.",
            data={**data, "order_id": waiting.get("order_id")},
            update={"sim_type": "physical"},
        )
    status = str(sim.get("sim_status"))
    if status == "blocked":
        text = (
            "The SIM on your number is blocked, usually after a phone was reported lost or stolen, and there's no "
            "new SIM from us waiting to be activated. If you need a replacement, tell me your phone was lost and "
            "I'll block it and send one, or I can set up an eSIM instead."
        )
    else:
        text = (
            f"Your SIM is {status} on our network. {_NOT_WORKING} I can also move your number to an eSIM if you like."
        )
    await log_interaction(turn, summary=f"SIM {status}, nothing to activate", outcome="resolved")
    return finish(
        turn.reply(text, "completed", summary=f"SIM {status}, nothing to activate", data={**data, "changed": False})
    )


def _locked(turn: Turn) -> Reply:
    return turn.reply(
        "Your line is protected after a report of fraud, so no new SIM can be activated on it until our fraud team "
        "has checked it with you. Would you like me to put you through to a member of our team?",
        "completed",
        summary="line locked: a SIM change needs a colleague",
        handoff_to=HUMAN.model_copy(
            update={"reason": "SIM change asked on a line locked after a fraud report", "priority": "high"}
        ),
        data={"changed": False, "locked": True},
    )


async def activate(state: SimState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "activate")
    assert turn.keys is not None
    kind = state.get("sim_type", "physical")
    try:
        key = held_key(state) or turn.idempotency_key(f"activate-sim:{kind}")
        args = {"msisdn": turn.keys.msisdn, "sim_type": kind}
        done = await turn.call("network.activate_sim", args, step=f"activate-sim:{kind}", key=key)
    except ToolFailed as refused:
        if "locked" in refused.detail:
            return finish(_locked(turn))
        summary = f"SIM not activated: {refused.detail[:120]}"
        await log_interaction(turn, summary=summary, outcome="no-action")
        return finish(
            turn.reply(
                "There's no new SIM from us waiting to be activated any more, so nothing has changed. " + _NOT_WORKING,
                "completed",
                summary=summary,
                data={"changed": False},
            )
        )
    approval = held_for_approval(done)
    if approval is not None:
        summary = f"{kind} activation waits for a colleague's check"
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        return hold(
            "For your security, a member of our team needs to check this before a new SIM is activated on your "
            "number. I've asked them to, and I'll confirm it here as soon as it's approved; your current SIM keeps "
            "working meanwhile.",
            summary=summary,
            approval_id=approval,
            key=key,
            data={"changed": False, "sim_type": kind},
        )
    if kind == "esim":
        text = (
            f"Your eSIM is ready. On your phone, add an eSIM (usually Settings > Mobile or Connections > SIM manager > "
            f"Add eSIM) and scan the QR code, or choose to enter the details by hand and type this code: "
            f"{done.get('activation_code')}. It takes over your number once it's installed, and your old SIM card "
            "stops working."
        )
    else:
        text = (
            f"Done: your new SIM is active from {day(done.get('activated_at'))} and has taken over your number. "
            "Restart your phone with the new SIM in it; calls, texts and data should work within a few minutes."
        )
    summary = f"{kind} activated ({done.get('activation_id')})"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            text,
            "completed",
            summary=summary,
            data={
                "changed": True,
                "sim_type": kind,
                "activation_id": done.get("activation_id"),
                "activation_code": done.get("activation_code"),
                "order_id": done.get("order_id"),
            },
        )
    )


def graph() -> StateGraph[SimState, SkillContext, Any, Any]:
    g = StateGraph(SimState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node(CONFIRM_NODE, confirm(then="activate", step="look"))
    g.add_node("activate", activate)
    g.add_node(HELD_NODE, held(then="activate", step="activate", not_done=NOT_ACTIVATED))
    g.set_entry_point(VERIFY_NODE)
    return g
