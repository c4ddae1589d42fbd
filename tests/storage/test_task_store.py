"""The specialists' A2A task store is durable: a file in the data directory, or the database URL's tables."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from a2a.auth.user import UnauthenticatedUser
from a2a.server.context import ServerCallContext
from a2a.types import Task, TaskState, TaskStatus

from agents.runtime.task_store import SQLITE_FILE, task_store_for
from shared import a2a_tasks


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


async def test_a_task_in_flight_is_written_when_it_waits_or_ends(tmp_path: Path) -> None:
    context = ServerCallContext(user=UnauthenticatedUser())
    store, prepare, close = task_store_for(None, tmp_path)
    await prepare()
    try:
        task = Task(id="task-2", context_id="ctx-1", status=TaskStatus(state=TaskState.TASK_STATE_WORKING))
        await store.save(task, context)
        running = await store.get("task-2", context)
        assert running is not None and running.status.state == TaskState.TASK_STATE_WORKING
        reopened, prepare_again, close_again = task_store_for(None, tmp_path)
        await prepare_again()
        try:
            assert await reopened.get("task-2", context) is None  # not written yet: it has not waited
            task.status.state = TaskState.TASK_STATE_INPUT_REQUIRED
            await store.save(task, context)
            waiting = await reopened.get("task-2", context)
            assert waiting is not None and waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        finally:
            await close_again()
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
