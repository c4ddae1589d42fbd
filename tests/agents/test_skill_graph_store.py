"""What a skill graph leaves in its checkpointer: a wait, written before the caller hears of it,
and nothing for a task that starts and finishes in one run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import GatewayClient, Reply, Turn
from agents.runtime.checkpoints import open_checkpointer
from agents.runtime.graph import SkillContext, SkillGraphs, SkillState, TaskStateLost, ask, finish, turn_of
from shared.handoff import HandoffRequest, SpecialistResult
from shared.service_auth import BearerAuth, audiences
from tests.agents.conftest import AUTHORITY, verified_envelope


class _State(SkillState, total=False):
    charge: str


_started: list[str] = []


def _first(state: _State, runtime: Runtime[SkillContext]) -> Command[Any]:
    # Counts every start: a continued task must never run its first node again.
    _started.append(turn_of(runtime).text)
    if turn_of(runtime).text == "just tell me":
        return finish(_reply("nothing to wait for"))
    return Command(goto="which", update={"charge": "ch-7"})


def _which(state: _State) -> dict[str, Any]:
    answer = ask(_reply("which charge?"))
    return {"charge": f"{state['charge']}:{answer}"}


def _confirm(state: _State) -> Command[Any]:
    answer = ask(_reply(f"refund {state['charge']}?"))
    return finish(_reply(f"{answer}, {state['charge']} refunded"))


def _builders() -> dict[str, StateGraph[Any, Any, Any, Any]]:
    graph: StateGraph[Any, Any, Any, Any] = StateGraph(_State, context_schema=SkillContext)
    graph.add_node("first", _first, destinations=("which", "__end__"))
    graph.add_node("which", _which)
    graph.add_node("confirm", _confirm)
    graph.add_edge(START, "first")
    graph.add_edge("which", "confirm")
    return {"refund": graph}


def _reply(text: str) -> Reply:
    return Reply(text, SpecialistResult(skill="refund", status="completed"))


@pytest.fixture
async def gateway() -> AsyncIterator[GatewayClient]:
    # These skills call no tool: the client is never connected.
    client = GatewayClient(
        "http://127.0.0.1:9/mcp", auth=BearerAuth(AUTHORITY.auth("payment").tokens, audiences.GATEWAY)
    )
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[str]]:
    if request.param == "memory":
        yield InMemorySaver()
        return
    async with open_checkpointer(None, tmp_path) as saver:
        yield saver


def _turn(text: str, gateway: GatewayClient) -> Turn:
    return Turn(text=text, envelope=verified_envelope(), handoff=HandoffRequest(skill="refund"), gateway=gateway)


def _graphs(store: BaseCheckpointSaver[str]) -> SkillGraphs:
    """The skill graphs of a specialist process started afresh on ``store``."""
    graphs = SkillGraphs(_builders())
    graphs.compile(store)
    return graphs


async def _stored(store: BaseCheckpointSaver[str], thread: str) -> bool:
    return await store.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}) is not None


async def test_a_task_that_finishes_in_one_run_writes_nothing(
    gateway: GatewayClient, store: BaseCheckpointSaver[str]
) -> None:
    outcome = await _graphs(store).run(
        "refund", _turn("just tell me", gateway), thread="t-1", context_id="conv-1", resume=False
    )
    assert outcome.wait is None and outcome.reply.text == "nothing to wait for"
    assert not await _stored(store, "t-1")


async def test_each_wait_is_stored_and_continued_by_a_restarted_process(
    gateway: GatewayClient, store: BaseCheckpointSaver[str]
) -> None:
    _started.clear()
    first = await _graphs(store).run(
        "refund", _turn("refund please", gateway), thread="t-2", context_id="c", resume=False
    )
    assert first.wait == "input" and first.reply.text == "which charge?"
    assert await _stored(store, "t-2")

    second = await _graphs(store).run(
        "refund", _turn("the big one", gateway), thread="t-2", context_id="c", resume=True
    )
    assert second.wait == "input" and second.reply.text == "refund ch-7:the big one?"

    graphs = _graphs(store)
    assert await graphs.waiting("refund", "t-2")
    last = await graphs.run("refund", _turn("yes", gateway), thread="t-2", context_id="c", resume=True)
    assert last.wait is None and last.reply.text == "yes, ch-7:the big one refunded"
    assert _started == ["refund please"]  # what the skill learned came from the store, not a rerun


async def test_continuing_a_thread_with_nothing_stored_runs_nothing(
    gateway: GatewayClient, store: BaseCheckpointSaver[str]
) -> None:
    _started.clear()
    graphs = _graphs(store)
    with pytest.raises(TaskStateLost):
        await graphs.run("refund", _turn("yes", gateway), thread="t-3", context_id="c", resume=True)
    assert _started == []
    assert not await graphs.waiting("refund", "t-3")
    assert not await _stored(store, "t-3")


class _CountingSaver(InMemorySaver):
    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[str] = []

    async def adelete_thread(self, thread_id: str) -> None:
        self.deleted.append(thread_id)
        await super().adelete_thread(thread_id)


async def test_forgetting_deletes_only_what_was_stored(gateway: GatewayClient) -> None:
    store = _CountingSaver()
    graphs = _graphs(store)
    await graphs.run("refund", _turn("just tell me", gateway), thread="t-4", context_id="c", resume=False)
    await graphs.forget("t-4")
    assert store.deleted == []  # it finished in its first run: nothing was ever written

    await graphs.run("refund", _turn("refund please", gateway), thread="t-5", context_id="c", resume=False)
    await graphs.forget("t-5")  # cancelled while it waits
    assert store.deleted == ["t-5"] and not await _stored(store, "t-5")
