"""Where a specialist keeps its A2A task records: ``tasks.db`` in its data directory, or the
database URL's ``tasks`` table (``shared.a2a_tasks``). The specialist's process is the only writer
of its ``tasks.db``, so settled tasks are answered from memory there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from a2a.server.tasks import TaskStore

from shared import a2a_tasks

SQLITE_FILE = "tasks.db"


def task_store_for(
    database_url: str | None, data_dir: Path
) -> tuple[TaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The specialist's task store, with what to run at start-up and shut-down."""
    return a2a_tasks.task_store_for(database_url, data_dir / SQLITE_FILE, sole_writer=True)
