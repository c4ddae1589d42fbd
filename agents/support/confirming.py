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
from shared.handoff import approval_decided
from shared.yes_no import yes_no

CONFIRM_NODE = "confirm"
HELD_NODE = "held"
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


class Held(TypedDict):
    text: str
    summary: str
    data: dict[str, Any]
    key: str


def held_key(state: ConfirmState) -> str | None:
    """The idempotency key of the write a person approved, to ask the gateway for what it did."""
    held = state.get("held")
    return held["key"] if held else None


class ConfirmState(SkillState, total=False):
    proposal: Proposal
    reasked: bool
    held: Held


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


def hold(text: str, *, summary: str, approval_id: str, key: str, data: dict[str, Any] | None = None) -> Command[Any]:
    """Wait in the held node: the customer hears ``text`` and the supervisor parks on ``approval_id``.

    ``key`` is the held write's idempotency key: asked again under it, the gateway answers with what
    the approved call returned.
    """
    shown = {**(data or {}), "approval_pending": True, "approval_id": approval_id or None}
    return Command(goto=HELD_NODE, update={"held": Held(text=text, summary=summary, data=shown, key=key)})


def held(*, then: str, step: str, not_done: str) -> Node:
    """Wait for a person's decision on a held write; once it was carried out, run ``then`` again.

    ``then`` repeats the held call with its idempotency key (``held_key``), so the gateway answers with what
    the approved call returned (a porting code, an activation) and nothing runs twice. Any other
    decision ends the task with ``not_done``: nothing changed.
    """

    async def node(state: ConfirmState, runtime: Runtime[SkillContext]) -> Command[Any]:
        turn = in_step(turn_of(runtime), step)
        waiting = state["held"]
        decided = ask(turn.reply(waiting["text"], "input-required", summary=waiting["summary"], data=waiting["data"]))
        if decided.strip().lower() == approval_decided("executed"):
            return Command(goto=then)
        data = {**waiting["data"], "approval_pending": False, "changed": False}
        return finish(turn.reply(not_done, "completed", summary=f"not approved: {waiting['summary']}", data=data))

    return node
