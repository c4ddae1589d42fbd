"""The specialists' A2A task store follows the database URL: a task saved by one replica is read by another."""

from __future__ import annotations

from a2a.auth.user import UnauthenticatedUser
from a2a.server.context import ServerCallContext
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import Task, TaskState, TaskStatus

from agents.runtime.app import task_store_for


async def test_without_a_url_tasks_stay_in_memory() -> None:
    store, prepare, close = task_store_for(None)
    assert isinstance(store, InMemoryTaskStore)
    await prepare()
    await close()


async def test_a_task_saved_by_one_replica_is_read_by_another(database_url: str) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    first, prepare_first, close_first = task_store_for(database_url)
    second, prepare_second, close_second = task_store_for(database_url)
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
