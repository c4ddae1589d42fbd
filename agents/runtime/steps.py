"""Building blocks every skill graph shares: the verification gate and the one-step skill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypedDict

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import needs_verification
from agents.runtime.turn import Reply, Turn
from shared.skill_steps import StepClaim

VERIFY_NODE = "verify"
Procedure = Callable[[Turn], Awaitable[Reply]]


class Node(Protocol):
    """A skill graph node: the state in, a ``Command`` (where to go, what to write) out."""

    def __call__(self, state: Any, *, runtime: Runtime[SkillContext]) -> Awaitable[Command[Any]]: ...


class NoState(SkillState, total=False):
    """A one-step skill keeps nothing between turns."""


def in_step(turn: Turn, step: str) -> Turn:
    """Name the SKILL.md step this node's calls are made in: the gateway allows only that step's tools."""
    turn.scope = StepClaim(skill=turn.skill, step=step)
    return turn


def verified_first(*keys: str, then: str) -> Node:
    """The first node of a skill that needs a verified customer with ``keys`` on record.

    Unverified, the task waits in ``auth-required``; the caller verifies the customer and continues
    the task, and the check runs again on the envelope of that turn.
    """

    async def verify(state: Any, runtime: Runtime[SkillContext]) -> Command[Any]:
        blocked = needs_verification(turn_of(runtime), *keys)
        if blocked is None:
            return Command(goto=then)
        ask(blocked, wait="auth")
        return Command(goto=VERIFY_NODE)

    return verify


def one_step(procedure: Procedure, *, verified: tuple[str, ...] | None = None) -> StateGraph[Any, Any, Any, Any]:
    """A skill that answers in one turn: ``procedure``, after the verification gate when ``verified``."""

    async def act(state: NoState, runtime: Runtime[SkillContext]) -> Command[Any]:
        return finish(await procedure(turn_of(runtime)))

    g: StateGraph[Any, Any, Any, Any] = StateGraph(NoState, context_schema=SkillContext)
    g.add_node("act", act)
    if verified is None:
        g.set_entry_point("act")
    else:
        g.add_node(VERIFY_NODE, verified_first(*verified, then="act"))
        g.set_entry_point(VERIFY_NODE)
    return g


WAIT_NODE = "wait"


class Prompt(TypedDict):
    text: str
    summary: str
    then: str
    data: dict[str, Any]


def say_then_wait(
    text: str,
    *,
    summary: str,
    then: str,
    data: dict[str, Any] | None = None,
    update: dict[str, Any] | None = None,
) -> Command[Any]:
    """Go to the graph's ``wait`` node: show ``text``, wait for the customer, then run ``then``.

    ``update`` is written to the state as well. The state schema needs a ``prompt: Prompt`` key
    and the graph a ``wait`` node (``wait``).
    """
    prompt = Prompt(text=text, summary=summary, then=then, data=dict(data or {}))
    return Command(goto=WAIT_NODE, update={**(update or {}), "prompt": prompt})


async def wait(state: Any, runtime: Runtime[SkillContext]) -> Command[Any]:
    """The task waits in ``input-required``; the next run starts here with the customer's answer."""
    prompt: Prompt = state["prompt"]
    ask(turn_of(runtime).reply(prompt["text"], "input-required", summary=prompt["summary"], data=prompt["data"]))
    return Command(goto=prompt["then"])
