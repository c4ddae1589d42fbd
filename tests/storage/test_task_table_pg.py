"""On PostgreSQL a task's row is written and read with one statement, in the SDK's own format."""

from __future__ import annotations

import uuid
from pathlib import Path

from a2a.auth.user import UnauthenticatedUser
from a2a.server.context import ServerCallContext
from a2a.types import Artifact, ListTasksRequest, Message, Part, Role, Task, TaskState, TaskStatus

from shared import a2a_tasks
from tests.storage.pg import private_schema


def _full_task() -> Task:
    task = Task(id=str(uuid.uuid4()), context_id=f"conv-{uuid.uuid4().hex}")
    task.status.CopyFrom(TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
    task.status.message.CopyFrom(Message(role=Role.ROLE_AGENT, message_id="m2", parts=[Part(text="which one?")]))
    task.status.timestamp.GetCurrentTime()
    task.history.append(Message(role=Role.ROLE_USER, message_id="m1", parts=[Part(text="a refund please")]))
    task.artifacts.append(Artifact(artifact_id="a1", parts=[Part(text="case 42")]))
    task.metadata.update({"switchboard": {"step": "confirm", "amount_pence": 1250}})
    return task


async def test_rows_round_trip_and_the_sdk_store_reads_and_lists_them(tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    async with private_schema() as url:
        store, prepare, close = a2a_tasks.task_store_for(url, tmp_path / "unused.db")
        sdk, prepare_sdk, dispose = a2a_tasks.sql_task_store(url, tmp_path / "unused.db")
        try:
            await prepare()
            await prepare_sdk()
            task = _full_task()
            await store.save(task, context)
            assert await store.get(task.id, context) == task
            assert await sdk.get(task.id, context) == task  # what the SDK's own store reads from the row

            task.status.state = TaskState.TASK_STATE_COMPLETED
            await store.save(task, context)  # the same id again: an update, not a second row
            listed = await store.list(ListTasksRequest(context_id=task.context_id), context)
            assert [t.status.state for t in listed.tasks] == [TaskState.TASK_STATE_COMPLETED]

            other = ServerCallContext(user=_Named("someone-else"))
            assert await store.get(task.id, other) is None  # a task is only answered to its owner
            await store.delete(task.id, context)
            assert await store.get(task.id, context) is None
        finally:
            await close()
            await dispose()


async def test_a_task_without_history_or_metadata_reads_back_empty(tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    async with private_schema() as url:
        store, prepare, close = a2a_tasks.task_store_for(url, tmp_path / "unused.db")
        try:
            await prepare()
            bare = Task(id="task-bare", context_id="ctx", status=TaskStatus(state=TaskState.TASK_STATE_FAILED))
            await store.save(bare, context)
            assert await store.get("task-bare", context) == bare
        finally:
            await close()


class _Named(UnauthenticatedUser):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def user_name(self) -> str:
        return self._name
