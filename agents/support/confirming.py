"""The wait for a customer's yes before a write: one node that several support skills share.

The node that looked things up writes the proposal into the state (``proposal``: what the
customer is told and asked) and goes to ``confirm``; a yes goes on to the skill's write node, a no
ends the task with nothing changed, anything else asks again. The write node reads again what it
acts on: the proposal is words the customer saw, not authority.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.steps import Node, in_step
from shared.yes_no import yes_no

CONFIRM_NODE = "confirm"
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")


def held_for_approval(outcome: dict[str, Any]) -> str | None:
    """The approval a held write waits for (the gateway names it in its sentence), or None if not held.

    The supervisor parks the conversation on it and tells the customer the decision when a person
    makes it; the gateway then runs the call itself, once.
    """
    if not str(outcome.get("status", "")).startswith("pending_approval"):
        return None
    found = _APPROVAL_ID.search(str(outcome.get("detail", "")))
    return found.group(0) if found else ""


class Proposal(TypedDict):
    text: str
    summary: str
    declined: str
    data: dict[str, Any]


class ConfirmState(SkillState, total=False):
    proposal: Proposal
    reasked: bool


def propose(
    text: str, *, summary: str, declined: str, data: dict[str, Any] | None = None, update: dict[str, Any] | None = None
) -> Command[Any]:
    """Go to the confirm node with this proposal (``text`` ends with the yes/no question)."""
    proposal = Proposal(text=text, summary=summary, declined=declined, data=dict(data or {}))
    return Command(goto=CONFIRM_NODE, update={**(update or {}), "proposal": proposal, "reasked": False})


def confirm(*, then: str, step: str) -> Node:
    """Wait for the customer's answer to the proposal; a yes runs ``then`` (the step after the yes)."""

    async def node(state: ConfirmState, runtime: Runtime[SkillContext]) -> Command[Any]:
        turn = in_step(turn_of(runtime), step)
        proposal = state["proposal"]
        text = "Sorry, should I go ahead? Please answer yes or no." if state.get("reasked") else proposal["text"]
        said = ask(turn.reply(text, "input-required", summary=proposal["summary"], data=proposal["data"]))
        answer = yes_no(said)
        if answer is None:
            return Command(goto=CONFIRM_NODE, update={"reasked": True})
        if answer is False:
            return finish(
                turn.reply(
                    proposal["declined"],
                    "completed",
                    summary=f"declined: {proposal['summary']}",
                    data={**proposal["data"], "changed": False},
                )
            )
        return Command(goto=then)

    return node
