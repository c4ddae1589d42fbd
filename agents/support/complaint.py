"""``make-complaint``: record the complaint as a high-priority case (urgent when it repeats one). One turn.

A complaint always raises priority: someone unhappy enough to complain should not wait behind
routine faults. A second complaint while an earlier one is still open links to it and is urgent.

verify -> describe (waits until the customer says what went wrong) -> record
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Turn
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, verified_first

CATEGORY = "complaint"
_BARE = {"complaint", "complain", "make a complaint", "i want to complain", "i want to make a complaint"}


class ComplaintState(SkillState, total=False):
    complaint: str


def _complaint(turn: Turn) -> str:
    # After verification the turn's text may be only the code; the routed request says what it was.
    text = turn.text.strip()
    return text if len(text.split()) >= 4 else f"{turn.handoff.reason} {text}".strip()


async def describe(state: ComplaintState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    complaint = _complaint(turn)
    said = " ".join(complaint.lower().strip(" .!?").split())
    if (said in _BARE or len(said.split()) < 4) and state.get("complaint") is None:
        ask(
            turn.reply(
                "I'm sorry things haven't gone well. Please tell me what happened, and I'll record your "
                "complaint so the right team picks it up.",
                "input-required",
                summary="asked what the complaint is about",
            )
        )
        return Command(goto="describe", update={"complaint": ""})
    return Command(goto="record", update={"complaint": complaint})


async def record(state: ComplaintState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    assert turn.keys is not None
    email = turn.keys.email
    tickets = (await turn.call("support.list_tickets", {"email": email, "status": "open"})).get("tickets") or []
    earlier = next((t for t in tickets if t.get("category") == CATEGORY), None)
    args: dict[str, Any] = {
        "email": email,
        "category": CATEGORY,
        "summary": state["complaint"][:200],
        "priority": "urgent" if earlier else "high",
    }
    if earlier:
        args["repeat_of"] = earlier.get("ticket_id")
    ticket = await turn.call("support.open_ticket", args, step="ticket:complaint")
    reference = ticket.get("ticket_id")
    parts = [f"I'm sorry about this. I've recorded your complaint as {reference}, marked {args['priority']} priority."]
    if earlier:
        parts.append(f"I've linked it to your earlier complaint {earlier.get('ticket_id')}, which is still open.")
    parts.append(
        "Our complaints team will contact you by email with what they find. "
        "If you'd rather talk it through with someone now, just say so and I'll connect you with a colleague."
    )
    summary = f"complaint {reference} ({args['priority']})"
    await log_interaction(turn, summary=summary, outcome="complaint-recorded")
    return finish(
        turn.reply(
            " ".join(parts),
            "completed",
            summary=summary,
            data={"ticket_id": reference, "priority": args["priority"], "repeat_of": args.get("repeat_of")},
        )
    )


def graph() -> StateGraph[ComplaintState, SkillContext, Any, Any]:
    g = StateGraph(ComplaintState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("email", then="describe"))
    g.add_node("describe", describe)
    g.add_node("record", record)
    g.set_entry_point(VERIFY_NODE)
    return g
