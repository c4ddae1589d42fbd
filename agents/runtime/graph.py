"""A skill procedure as a LangGraph graph: small nodes, state on the server, a wait is an interrupt.

A skill module builds an uncompiled ``StateGraph`` whose nodes take ``(state, runtime)``; the
runtime compiles every graph once at start-up with the checkpointer. One A2A task is one graph
thread (``thread_id`` = task id), so what a skill learned on an earlier turn (which charge, which
plan) is read from the checkpoint, never from the caller's message.

Inside a node:
- ``turn_of(runtime)`` is this request's ``Turn`` (the customer's words, the envelope, ``call``);
- ``ask(reply)`` pauses the task in ``input-required`` showing ``reply`` and returns the customer's
  next message when the caller continues the task (the node runs again from its top, so put the
  wait first in a node and the reads after it);
- ``finish(reply)`` ends the task with ``reply``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, Durability, interrupt

from agents.runtime.checkpoints import STAMP
from agents.runtime.turn import Reply, Turn
from shared.handoff import SpecialistResult
from shared.keyed_locks import KeyedLocks

Wait = Literal["input", "auth"]
REPLY_KEY = "reply"
_UNSTORED_REMEMBERED = 4096

DURABILITY: Durability = "exit"
"""Write the run's checkpoint when it ends, not after every super-step.

Measured by ``benchmarks/skill_checkpoints.py``: a checkpoint per super-step costs about 2 ms each
on SQLite, and a wait always persists anyway. A crash in the middle of one turn loses only that
turn's progress, which the caller sees as a failed request and may repeat: writes carry an
idempotency key derived from the task and the step, so a repeat never acts twice.
"""


class SkillState(TypedDict, total=False):
    """What every skill state has: the final reply, set by ``finish``. Skills add their own keys."""

    reply: dict[str, Any]


@dataclass(frozen=True)
class SkillContext:
    """What a node gets besides its state: this request's turn. Never checkpointed."""

    turn: Turn


def turn_of(runtime: Runtime[SkillContext]) -> Turn:
    return runtime.context.turn


def ask(reply: Reply, *, wait: Wait = "input") -> str:
    """Wait for the customer (``input``) or for a verified customer (``auth``); returns their words."""
    answer = interrupt({"wait": wait, REPLY_KEY: _dump(reply)})
    return str(answer)


def finish(reply: Reply) -> Command[Any]:
    """End the task with ``reply``."""
    return Command(goto=END, update={REPLY_KEY: _dump(reply)})


@dataclass(frozen=True)
class Outcome:
    """Where one run left the task: finished with ``reply``, or waiting (``wait``) after showing it."""

    reply: Reply
    wait: Wait | None = None


class TaskStateLost(Exception):
    """The caller continued a task whose graph has no pending wait (pruned or never started)."""


class SkillGraphs:
    """Every skill graph of one specialist against one checkpointer: checked at start-up, each
    compiled once, on its first run (compiling all of them is most of a specialist's start).

    A run happens in memory, and only a run that ends waiting is written to the checkpointer:
    its newest checkpoint with the wait, before the caller hears of the wait. A continued task's
    wait is read from the checkpointer into memory first. So the checkpointer holds what it held
    with durability ``exit``, at the moments a caller can see, minus the final checkpoint of a run
    that finished, which the executor deleted right after anyway; a task that starts and finishes
    in one run never touches the store. A crash mid-run leaves the store at the task's previous
    wait, as before.
    """

    def __init__(self, builders: Mapping[str, StateGraph[Any, Any, Any, Any]]) -> None:
        self._builders = dict(builders)
        self._compiled: dict[str, CompiledStateGraph[Any, Any, Any, Any]] = {}
        self._saver: BaseCheckpointSaver[str] | None = None
        self._scratch = InMemorySaver()
        # One run per thread at a time: its scratch state is loaded, run and cleared as a whole.
        self._threads = KeyedLocks()
        # Threads that started here and stored nothing (a task finished, or failed, in its first
        # run): forgetting one has nothing to delete. Bounded; one that fell out is deleted as usual.
        self._unstored: OrderedDict[str, None] = OrderedDict()

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(self._builders)

    @property
    def checkpointer(self) -> BaseCheckpointSaver[str]:
        if self._saver is None:
            raise RuntimeError("skill graphs are used before start-up compiled them")
        return self._saver

    def compile(self, saver: BaseCheckpointSaver[str]) -> None:
        """Use ``saver``; a graph that would not compile (a node no edge reaches, ...) stops start-up here."""
        for builder in self._builders.values():
            builder.validate()
        self._saver = saver
        self._compiled = {}

    def _graph(self, skill: str) -> CompiledStateGraph[Any, Any, Any, Any]:
        graph = self._compiled.get(skill)
        if graph is None:
            if self._saver is None:
                raise RuntimeError("skill graphs are used before start-up compiled them")
            graph = self._builders[skill].compile(checkpointer=self._scratch, name=skill)
            self._compiled[skill] = graph
        return graph

    async def run(self, skill: str, turn: Turn, *, thread: str, context_id: str, resume: bool) -> Outcome:
        """Start the skill on a new thread, or continue the wait pending on ``thread`` with ``turn.text``.

        Raises TaskStateLost when ``resume`` finds nothing waiting.
        """
        graph = self._graph(skill)
        config: dict[str, Any] = {
            "configurable": {"thread_id": thread},
            "metadata": {STAMP: time.time(), "context_id": context_id, "skill": skill},
        }
        async with self._threads[thread]:
            stored = resume
            try:
                payload: Any = {}
                if resume:
                    if not await self._load_wait(graph, thread):
                        raise TaskStateLost(thread)
                    payload = Command(resume=turn.text)
                out = await graph.ainvoke(
                    payload, cast(Any, config), context=SkillContext(turn), durability=DURABILITY, version="v2"
                )
                if out.interrupts:
                    newest = await self._scratch.aget_tuple(_thread(thread))
                    assert newest is not None, "a run that waits has checkpointed its wait"
                    stored = True  # before writing: a write that fails halfway is deleted too
                    await _copy(newest, self.checkpointer)
            finally:
                await self._scratch.adelete_thread(thread)
                if not stored:
                    self._unstored[thread] = None
                    if len(self._unstored) > _UNSTORED_REMEMBERED:
                        self._unstored.popitem(last=False)
        if out.interrupts:
            pending = cast(dict[str, Any], out.interrupts[0].value)
            return Outcome(_load(pending[REPLY_KEY]), cast(Wait, pending["wait"]))
        return Outcome(_load(cast(dict[str, Any], out.value)[REPLY_KEY]))

    async def _load_wait(self, graph: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> bool:
        """Copy ``thread``'s newest checkpoint from the store into memory; whether a wait is pending there."""
        stored = await self.checkpointer.aget_tuple(_thread(thread))
        if stored is None:
            return False
        await _copy(stored, self._scratch)
        return bool((await graph.aget_state(_thread(thread))).interrupts)

    async def waiting(self, skill: str, thread: str) -> bool:
        """Whether ``thread`` has a wait pending (a task this graph is in the middle of)."""
        async with self._threads[thread]:
            try:
                return await self._load_wait(self._graph(skill), thread)
            finally:
                await self._scratch.adelete_thread(thread)

    async def forget(self, thread: str) -> None:
        """Delete a thread: its task ended, or was cancelled, so nothing may resume it."""
        if thread in self._unstored:
            del self._unstored[thread]
            return
        await self.checkpointer.adelete_thread(thread)


def _thread(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}


async def _copy(source: CheckpointTuple, target: BaseCheckpointSaver[str]) -> None:
    """Write ``source`` (a checkpoint and the writes pending on it) into ``target``, under the same
    id and parent, so it is ``target``'s newest checkpoint of its thread."""
    keys = source.config["configurable"]
    where: dict[str, Any] = {"thread_id": keys["thread_id"], "checkpoint_ns": keys.get("checkpoint_ns", "")}
    if source.parent_config is not None:
        where["checkpoint_id"] = source.parent_config["configurable"]["checkpoint_id"]
    # Every channel counts as new: the target holds none of this checkpoint's values yet.
    versions = dict(source.checkpoint["channel_versions"])
    saved = await target.aput({"configurable": where}, source.checkpoint, source.metadata, versions)
    by_task: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in source.pending_writes or ():
        by_task.setdefault(task_id, []).append((channel, value))
    for task_id, writes in by_task.items():
        await target.aput_writes(saved, writes, task_id)


def _dump(reply: Reply) -> dict[str, Any]:
    return {"text": reply.text, "result": reply.result.model_dump(mode="json")}


def _load(raw: Mapping[str, Any]) -> Reply:
    return Reply(str(raw["text"]), SpecialistResult.model_validate(raw["result"]))


def start_at(node: str) -> Command[Any]:
    """A node's way of saying "go on with ``node``" (the graph's edges are these gotos)."""
    return Command(goto=node)
