"""The specialists' A2A task store is durable: a file in the data directory, or the database URL's tables."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

from a2a.auth.user import UnauthenticatedUser
from a2a.server.context import ServerCallContext
from a2a.server.id_generator import IDGeneratorContext
from a2a.server.tasks import InMemoryTaskStore, TaskStore
from a2a.types import ListTasksRequest, ListTasksResponse, Message, Part, Role, Task, TaskState, TaskStatus

from agents.runtime.task_store import SQLITE_FILE, task_store_for
from shared import a2a_tasks
from shared.a2a_tasks import SettledTaskStore


async def test_without_a_url_tasks_outlive_the_store_in_a_private_file(tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    store, prepare, close = task_store_for(None, tmp_path)
    await prepare()
    task = Task(id="task-1", context_id="ctx-1", status=TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
    await store.save(task, context)
    await close()
    assert (tmp_path / SQLITE_FILE).stat().st_mode & 0o777 == 0o600

    reopened, prepare_again, close_again = task_store_for(None, tmp_path)
    await prepare_again()
    try:
        loaded = await reopened.get("task-1", context)
        assert loaded is not None and loaded.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    finally:
        await close_again()


async def test_a_task_saved_by_one_replica_is_read_by_another(database_url: str, tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    first, prepare_first, close_first = task_store_for(database_url, tmp_path)
    second, prepare_second, close_second = task_store_for(database_url, tmp_path)
    try:
        await prepare_first()
        await prepare_second()  # the table exists already: creating it again is a no-op
        task = Task(id="task-1", context_id="ctx-1", status=TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
        await first.save(task, context)
        loaded = await second.get("task-1", context)
        assert loaded is not None and loaded.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        assert await second.get("task-missing", context) is None
    finally:
        await close_first()
        await close_second()


async def _on_disk(tmp_path: Path, task_id: str) -> Task | None:
    """What a restarted specialist would find: a store opened afresh on the same file."""
    reopened, prepare, close = task_store_for(None, tmp_path)
    await prepare()
    try:
        return await reopened.get(task_id, ServerCallContext(user=UnauthenticatedUser()))
    finally:
        await close()


async def test_a_task_in_flight_is_written_when_it_waits_or_ends(tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    store, prepare, close = task_store_for(None, tmp_path)
    await prepare()
    try:
        task = Task(id="task-2", context_id="ctx-1", status=TaskStatus(state=TaskState.TASK_STATE_WORKING))
        await store.save(task, context)
        running = await store.get("task-2", context)
        assert running is not None and running.status.state == TaskState.TASK_STATE_WORKING
        assert await _on_disk(tmp_path, "task-2") is None  # not written yet: it has not waited
        task.status.state = TaskState.TASK_STATE_INPUT_REQUIRED
        await store.save(task, context)
        waiting = await _on_disk(tmp_path, "task-2")
        assert waiting is not None and waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    finally:
        await close()


async def test_orchestrator_processes_share_one_store_with_conversation_ids(database_url: str, tmp_path: Path) -> None:
    # The orchestrator's A2A front: its context ids are conversation ids, 37 characters (the
    # SDK's table declares 36), and several processes save into one store at once.
    context = ServerCallContext(user=UnauthenticatedUser())
    stores = [a2a_tasks.task_store_for(database_url, tmp_path / "a2a_tasks.db") for _ in range(2)]
    try:
        for _, prepare, _ in stores:
            await prepare()
        conversation = f"conv-{uuid.uuid4().hex}"
        assert len(conversation) == 37
        waiting = TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED)
        tasks = [Task(id=str(uuid.uuid4()), context_id=conversation, status=waiting) for _ in range(20)]
        await asyncio.gather(*(stores[i % 2][0].save(task, context) for i, task in enumerate(tasks)))
        for i, task in enumerate(tasks):
            loaded = await stores[(i + 1) % 2][0].get(task.id, context)  # read by the other process
            assert loaded is not None and loaded.context_id == conversation
    finally:
        for _, _, close in stores:
            await close()


class CountingStore(TaskStore):
    """A real in-memory store that counts what reaches it (the durable side of the store under test)."""

    def __init__(self) -> None:
        self.inner = InMemoryTaskStore()
        self.calls: Counter[str] = Counter()

    async def save(self, task: Task, context: ServerCallContext) -> None:
        self.calls["save"] += 1
        await self.inner.save(task, context)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        self.calls["get"] += 1
        return await self.inner.get(task_id, context)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self.inner.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        self.calls["delete"] += 1
        await self.inner.delete(task_id, context)


def _as(name: str) -> ServerCallContext:
    return ServerCallContext(user=_User(name))


class _User(UnauthenticatedUser):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def user_name(self) -> str:
        return self._name


def _waiting(task_id: str) -> Task:
    task = Task(id=task_id, context_id="ctx-1", status=TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
    task.status.message.CopyFrom(Message(role=Role.ROLE_AGENT, message_id="m1", parts=[Part(text="which one?")]))
    task.status.timestamp.GetCurrentTime()
    return task


async def test_the_only_writer_of_a_file_reads_each_task_from_it_once() -> None:
    durable = CountingStore()
    store = SettledTaskStore(durable, sole_writer=True)
    context = _as("orchestrator")
    for _ in range(3):  # the SDK looks a new task up several times before it exists
        assert await store.get("task-new", context) is None
    assert durable.calls["get"] == 1

    await store.save(_waiting("task-3"), context)
    first = await store.get("task-3", context)
    assert first is not None
    first.history.append(Message(role=Role.ROLE_USER, message_id="m2", parts=[Part(text="changed by the caller")]))
    again = await store.get("task-3", context)
    assert again is not None and len(again.history) == 0  # every reader gets its own copy
    assert durable.calls == Counter({"get": 1, "save": 1})


async def test_a_remembered_task_is_only_answered_to_its_owner() -> None:
    store = SettledTaskStore(CountingStore(), sole_writer=True)
    await store.save(_waiting("task-4"), _as("orchestrator"))
    assert await store.get("task-4", _as("orchestrator")) is not None
    assert await store.get("task-4", _as("partner")) is None


def _answer(task: Task) -> None:
    """Answer the task's wait as the SDK records it: the question moves to the history, the answer follows it."""
    task.history.append(task.status.message)
    task.status.ClearField("message")
    task.history.append(Message(role=Role.ROLE_USER, message_id="m2", parts=[Part(text="the second one")]))


async def test_the_answer_to_a_wait_is_written_when_the_task_settles_again() -> None:
    durable = CountingStore()
    store = SettledTaskStore(durable, sole_writer=True)
    context = _as("orchestrator")
    await store.save(_waiting("task-5"), context)
    task = await store.get("task-5", context)
    assert task is not None
    _answer(task)
    await store.save(task, context)
    assert durable.calls["save"] == 1
    stored = await durable.get("task-5", context)
    assert stored is not None and len(stored.history) == 0
    read = await store.get("task-5", context)
    assert read is not None and len(read.history) == 2

    task.status.state = TaskState.TASK_STATE_COMPLETED
    task.status.timestamp.GetCurrentTime()
    await store.save(task, context)
    stored = await durable.get("task-5", context)
    assert stored is not None and stored.status.state == TaskState.TASK_STATE_COMPLETED and len(stored.history) == 2


async def test_a_second_wait_after_an_answer_is_written() -> None:
    durable = CountingStore()
    store = SettledTaskStore(durable, sole_writer=True)
    context = _as("orchestrator")
    await store.save(_waiting("task-7"), context)
    task = await store.get("task-7", context)
    assert task is not None
    task.history.append(Message(role=Role.ROLE_USER, message_id="m2", parts=[Part(text="not sure")]))
    await store.save(task, context)
    task.status.CopyFrom(_waiting("task-7").status)  # another question: the same state, stamped anew
    await store.save(task, context)
    assert durable.calls["save"] == 2
    stored = await durable.get("task-7", context)
    assert stored is not None and len(stored.history) == 1


async def test_with_other_writers_every_read_goes_to_the_database() -> None:
    durable = CountingStore()
    store = SettledTaskStore(durable)
    context = _as("orchestrator")
    await store.save(_waiting("task-6"), context)
    for _ in range(3):
        assert await store.get("task-6", context) is not None
    assert durable.calls["get"] == 3


async def test_a_new_task_is_known_missing_until_it_is_first_written() -> None:
    # Several processes write the store: a task that may exist is always read from it, but one
    # whose id this process made for a new task cannot exist before this process writes it.
    durable = CountingStore()
    store = SettledTaskStore(durable)
    context = _as("orchestrator")
    task_id = store.new_task_ids().generate(IDGeneratorContext(context_id="ctx-1"))
    assert str(uuid.UUID(task_id)) == task_id  # the SDK's own kind of id
    for _ in range(3):  # the SDK looks a new task up several times before it settles
        assert await store.get(task_id, context) is None
    assert durable.calls["get"] == 0

    await store.save(_waiting(task_id), context)
    assert await store.get(task_id, context) is not None
    assert durable.calls == Counter({"save": 1, "get": 1})  # once written, it is read from the store
    assert await store.get("made-elsewhere", context) is None
    assert durable.calls["get"] == 2


async def test_with_other_writers_the_answer_to_a_wait_is_written_when_the_task_settles_again() -> None:
    durable = CountingStore()
    store = SettledTaskStore(durable)
    context = _as("orchestrator")
    await durable.save(_waiting("task-8"), context)  # written by another replica
    task = await store.get("task-8", context)
    assert task is not None
    _answer(task)
    await store.save(task, context)
    assert durable.calls["save"] == 1  # only the other replica's
    read = await store.get("task-8", context)
    assert read is not None and len(read.history) == 2  # in flight here: answered from memory

    task.status.state = TaskState.TASK_STATE_COMPLETED
    task.status.timestamp.GetCurrentTime()
    await store.save(task, context)
    stored = await durable.get("task-8", context)
    assert stored is not None and stored.status.state == TaskState.TASK_STATE_COMPLETED and len(stored.history) == 2
