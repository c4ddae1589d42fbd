"""Where a specialist keeps its A2A task records: ``tasks.db`` in its data directory, or the
database URL's ``tasks`` table (``shared.a2a_tasks``). The specialist's process is the only writer
of its ``tasks.db``, so settled tasks are answered from memory there, and it writes and reads the
file's rows itself (``task_file``) instead of through the SDK's ORM."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from agents.runtime.task_file import SqliteTaskFile
from shared import a2a_tasks
from shared.database import DatabaseURL

SQLITE_FILE = "tasks.db"


def task_store_for(
    database_url: str | None, data_dir: Path
) -> tuple[a2a_tasks.SettledTaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The specialist's task store, with what to run at start-up and shut-down."""
    db = DatabaseURL.parse(database_url, default_sqlite=data_dir / SQLITE_FILE)
    if db.path is None:
        return a2a_tasks.task_store_for(database_url, data_dir / SQLITE_FILE, sole_writer=True)
    sdk, prepare_table, dispose = a2a_tasks.sql_task_store(database_url, db.path)
    rows = SqliteTaskFile(db.path, sdk)

    async def prepare() -> None:
        await prepare_table()
        await rows.open()

    async def close() -> None:
        await rows.close()
        await dispose()

    store = a2a_tasks.SettledTaskStore(rows, sole_writer=True, owner_of=sdk.owner_resolver)
    return store, prepare, close
