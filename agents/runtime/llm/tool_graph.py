"""The model's tool loop for one turn, as a LangGraph graph.

    START -> model -> tools -> model -> ... -> END

``model`` asks the model (cut to what is left of the turn's deadline) and ends the turn when it
answers; ``tools`` runs the calls it asked for, each through ``Turn.call`` and so through the
gateway, with the turn's skill step attached. The number of model calls is bounded. Nothing of
this graph is checkpointed: it lives within one turn, and the conversation around it (history,
waits) is the checkpointed chat graph in ``loop.py``. Exceptions end the run and reach the caller.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from langgraph.errors import GraphRecursionError
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.llm.prompts import ANSWER_TOOL, tool_result
from agents.runtime.llm.tools import BOUND_ARGS, GovernedTool, bind_arguments, catalog_name
from agents.runtime.turn import Turn
from shared.deadline import DeadlinePassed, remaining
from shared.handoff import Status
from shared.llm.budget import ModelBudget
from shared.llm.model import ModelClient, ModelUnavailable, ToolCall, ToolSpec, Usage
from shared.tools import IDEMPOTENCY_ARG

logger = logging.getLogger(__name__)


class Answer(TypedDict):
    """The final reply: text and status."""

    text: str
    status: Status


class LoopState(TypedDict, total=False):
    messages: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    """The tool calls the model asked for last, not yet made."""
    answer: Answer
    finish_reason: str
    """Why the last model call stopped ("length": cut off at the token limit)."""


@dataclass
class Run:
    """What one turn's loop did so far (read by the caller whether it ended well or not)."""

    turn: Turn
    usage: Usage = field(default_factory=Usage)
    wrote: bool = False
    refused: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    """Catalog names of the calls that went through, in order."""


Check = Callable[[str, list[dict[str, Any]], str], None]
"""Raises when a final reply may not reach the customer (``checks.refusal``)."""
OnHeld = Callable[[str, str, Mapping[str, Any]], BaseException]
"""Builds what to raise when the gateway holds a write for a human approval."""


@dataclass(frozen=True)
class LoopContext:
    """What the nodes get besides the state; never checkpointed."""

    run: Run
    model: ModelClient
    tools: Mapping[str, GovernedTool]
    offered: list[ToolSpec]
    budget: ModelBudget
    check: Check
    held: OnHeld


def build(max_steps: int) -> Callable[[LoopState, LoopContext], Awaitable[LoopState]]:
    """The compiled loop; the returned function runs it and returns the final state."""
    graph = StateGraph(LoopState, context_schema=LoopContext)
    graph.add_node("model", _model, destinations=("tools", END))
    graph.add_node("tools", _tools, destinations=("model", END))
    graph.add_edge(START, "model")
    compiled: CompiledStateGraph[LoopState, LoopContext, Any, Any] = graph.compile(name="tool-loop")
    # One model super-step and one tool super-step per round.
    limit = 2 * max_steps

    async def run(state: LoopState, context: LoopContext) -> LoopState:
        try:
            out = await compiled.ainvoke(state, {"recursion_limit": limit}, context=context)
        except GraphRecursionError:
            raise ModelUnavailable(f"the model did not answer within {max_steps} steps") from None
        return cast(LoopState, out)

    return run


async def _model(state: LoopState, runtime: Runtime[LoopContext]) -> Command[Any]:
    ctx = runtime.context
    timeout, max_tokens = ctx.budget.call(remaining(ctx.run.turn.envelope))
    messages = state["messages"]
    answer = await ctx.model.complete(messages, tools=ctx.offered, timeout_seconds=timeout, max_tokens=max_tokens)
    ctx.run.usage += answer.usage
    if not answer.tool_calls:
        text = answer.text.strip()
        if not text:
            raise ModelUnavailable("the model answered nothing")
        status: Status = "input-required" if text.endswith("?") else "completed"
        return _final(ctx, messages, text, status, answer.finish_reason)
    pending = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in answer.tool_calls]
    return Command(
        goto="tools",
        update={
            "messages": [*messages, _assistant(answer.text, answer.tool_calls)],
            "pending": pending,
            "finish_reason": answer.finish_reason,
        },
    )


async def _tools(state: LoopState, runtime: Runtime[LoopContext]) -> Command[Any]:
    ctx = runtime.context
    messages = list(state["messages"])
    for call in state.get("pending") or []:
        if call["name"] == ANSWER_TOOL:
            args = call["arguments"] or {}
            text = str(args.get("text") or "").strip()
            if not text:
                raise ModelUnavailable("the model's answer had no text")
            status: Status = "input-required" if args.get("status") == "input-required" else "completed"
            return _final(ctx, messages, text, status, state.get("finish_reason", ""))
        left = remaining(ctx.run.turn.envelope)
        if left is not None and left <= 0:
            # Out of time: the calls not made yet are never made.
            raise DeadlinePassed("the turn's deadline passed before the next tool call")
        content = await _call(ctx, call["name"], call["arguments"])
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    return Command(goto="model", update={"messages": messages, "pending": []})


def _final(
    ctx: LoopContext, messages: list[dict[str, Any]], text: str, status: Status, finish_reason: str
) -> Command[Any]:
    ctx.check(text, messages, finish_reason)
    return Command(goto=END, update={"messages": messages, "answer": {"text": text, "status": status}})


async def _call(ctx: LoopContext, name: str, arguments: dict[str, Any] | None) -> str:
    run, turn = ctx.run, ctx.run.turn
    tool = ctx.tools.get(name)
    if tool is None:
        # Not offered means neither policy nor the current skill step grants it. The gateway, not
        # this loop, refuses, so the attempt is on the audit trail; identifiers are never forwarded.
        run.refused.append(name)
        logger.warning("%s/%s: model asked for a tool it was not offered: %r", turn.agent, turn.skill, name)
        unlisted = {k: v for k, v in (arguments or {}).items() if k not in BOUND_ARGS}
        try:
            data = await turn.call(catalog_name(name), unlisted)
        except ToolFailed as exc:
            return tool_result({"error": f"{name} is not available to you ({exc.detail[:200]})"})
        run.wrote = True  # granted after all: nothing tells whether it changed something
        run.done.append(catalog_name(name))
        return tool_result(data)
    if arguments is None:
        return tool_result({"error": "arguments must be a JSON object matching the schema"})
    args = bind_arguments(tool, arguments, turn.envelope)
    step = None
    if IDEMPOTENCY_ARG in tool.bound:
        # A write: the same arguments in the same conversation get the same key, so never act twice.
        digest = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()[:12]
        step = f"llm:{tool.catalog_name}:{digest}"
    try:
        # Denials and dead systems end the turn: the caller answers them as every brain does.
        data = await turn.call(tool.catalog_name, args, step=step)
    except ToolFailed as exc:
        return tool_result({"error": exc.detail})
    run.wrote = run.wrote or step is not None or not tool.read_only
    run.done.append(tool.catalog_name)
    if step is not None and data.get("status") == "pending_approval":
        raise ctx.held(tool.catalog_name, str(data.get("detail") or ""), args)
    return tool_result(data)


def _assistant(text: str, calls: tuple[ToolCall, ...]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments or {})}}
            for c in calls
        ],
    }
