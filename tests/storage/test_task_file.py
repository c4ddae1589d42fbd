"""A specialist's own reads and writes of ``tasks.db`` keep the SDK's row format: the SDK's store
on the same file reads what it wrote, and it reads what the SDK's store wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from a2a.auth.user import UnauthenticatedUser
from a2a.server.context import ServerCallContext
from a2a.server.tasks import DatabaseTaskStore
from a2a.types import Artifact, ListTasksRequest, Message, Part, Role, Task, TaskState, TaskStatus
from google.protobuf.struct_pb2 import Struct, Value

from agents.runtime.task_file import SqliteTaskFile
from shared import a2a_tasks


class _User(UnauthenticatedUser):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def user_name(self) -> str:
        return self._name


def _as(name: str) -> ServerCallContext:
    return ServerCallContext(user=_User(name))


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteTaskFile, DatabaseTaskStore]]:
    sdk, prepare, dispose = a2a_tasks.sql_task_store(None, tmp_path / "tasks.db")
    await prepare()
    own = SqliteTaskFile(tmp_path / "tasks.db", sdk)
    await own.open()
    try:
        yield own, sdk
    finally:
        await own.close()
        await dispose()


def _full(task_id: str, *, context_id: str = "conv-1") -> Task:
    """A task with every part a row holds: status with its message and time, history, artifacts, metadata."""
    task = Task(id=task_id, context_id=context_id, status=TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
    task.status.message.CopyFrom(Message(role=Role.ROLE_AGENT, message_id="m1", parts=[Part(text="which charge?")]))
    task.status.timestamp.FromSeconds(1_800_000_000)
    task.status.timestamp.nanos = 123_456_000
    task.history.append(Message(role=Role.ROLE_USER, message_id="m0", parts=[Part(text="refund the duplicate")]))
    data = Struct()
    data.update({"amount_pence": 1299, "charges": ["ch-1", "ch-2"]})
    task.artifacts.append(Artifact(artifact_id="a1", name="result", parts=[Part(data=_value(data))]))
    task.metadata.update({"switchboard/skill": "refund"})
    return task


def _value(struct: Struct) -> Value:
    value = Value()
    value.struct_value.CopyFrom(struct)
    return value


async def test_the_sdk_store_reads_and_lists_what_the_specialist_wrote(
    stores: tuple[SqliteTaskFile, DatabaseTaskStore],
) -> None:
    own, sdk = stores
    task = _full("task-1")
    await own.save(task, _as("orchestrator"))
    assert await sdk.get("task-1", _as("orchestrator")) == task
    listed = await sdk.list(ListTasksRequest(context_id="conv-1"), _as("orchestrator"))
    assert list(listed.tasks) == [task]


async def test_the_specialist_reads_what_the_sdk_store_wrote(stores: tuple[SqliteTaskFile, DatabaseTaskStore]) -> None:
    own, sdk = stores
    task = _full("task-2")
    await sdk.save(task, _as("orchestrator"))
    assert await own.get("task-2", _as("orchestrator")) == task
    bare = Task(id="task-3", context_id="conv-1", status=TaskStatus(state=TaskState.TASK_STATE_COMPLETED))
    await sdk.save(bare, _as("orchestrator"))  # no time stamp, history, artifacts or metadata
    assert await own.get("task-3", _as("orchestrator")) == bare


async def test_a_save_replaces_the_row_and_a_list_orders_by_its_time(
    stores: tuple[SqliteTaskFile, DatabaseTaskStore],
) -> None:
    own, sdk = stores
    older, newer = _full("task-4"), _full("task-5")
    newer.status.timestamp.FromSeconds(1_800_000_100)
    await own.save(newer, _as("orchestrator"))
    await own.save(older, _as("orchestrator"))
    listed = await sdk.list(ListTasksRequest(), _as("orchestrator"))
    assert [t.id for t in listed.tasks] == ["task-5", "task-4"]

    older.status.state = TaskState.TASK_STATE_COMPLETED
    older.status.timestamp.FromSeconds(1_800_000_200)
    older.history.append(Message(role=Role.ROLE_USER, message_id="m2", parts=[Part(text="yes")]))
    await own.save(older, _as("orchestrator"))
    assert await own.get("task-4", _as("orchestrator")) == older
    listed = await sdk.list(ListTasksRequest(), _as("orchestrator"))
    assert [t.id for t in listed.tasks] == ["task-4", "task-5"]
    assert listed.total_size == 2


async def test_a_task_is_only_read_or_deleted_by_its_owner(stores: tuple[SqliteTaskFile, DatabaseTaskStore]) -> None:
    own, sdk = stores
    await own.save(_full("task-6"), _as("orchestrator"))
    assert await own.get("task-6", _as("partner")) is None
    await own.delete("task-6", _as("partner"))
    assert await own.get("task-6", _as("orchestrator")) is not None
    await own.delete("task-6", _as("orchestrator"))
    assert await own.get("task-6", _as("orchestrator")) is None
    assert await sdk.get("task-6", _as("orchestrator")) is None
