"""Where skill graphs keep their state: a LangGraph checkpointer on SQLite or PostgreSQL.

The embedded default is one SQLite file in the data directory (``skills.db``, 0600); with
``SWITCHBOARD_DATABASE_URL`` set to PostgreSQL the same tables live there, so any replica can
resume a task another one started. A thread is an A2A task: it is deleted when the task ends, and
``prune_stale`` removes threads nobody came back to, so the store does not grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from shared.database import DatabaseURL

SQLITE_FILE = "skills.db"
_LOCK_RETRY_SECONDS = 0.05
CHECKPOINT_CONNECTIONS = 1
"""PostgreSQL connections a specialist's checkpointer holds (``shared/pools.py`` counts them)."""
SYNCHRONOUS_COMMIT = "off"
STAMP = "at"
"""Checkpoint metadata key: when the run that wrote it started (unix seconds); pruning reads it."""


@contextlib.asynccontextmanager
async def open_checkpointer(database_url: str | None, data_dir: Path) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """The checkpointer for ``database_url`` (PostgreSQL) or the SQLite file under ``data_dir``."""
    db = DatabaseURL.parse(database_url, default_sqlite=data_dir / SQLITE_FILE)
    if db.is_postgres:
        async with _postgres(db) as saver:
            yield saver
        return
    async with _sqlite(db) as saver:
        yield saver


@contextlib.asynccontextmanager
async def _sqlite(db: DatabaseURL) -> AsyncIterator[BaseCheckpointSaver[str]]:
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    assert db.path is not None
    db.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db.path.touch(mode=0o600, exist_ok=True)
    os.chmod(db.path, 0o600)
    async with aiosqlite.connect(db.path) as conn:
        saver = AsyncSqliteSaver(conn)
        await saver.setup()  # sets journal_mode=WAL
        # In WAL mode NORMAL syncs at WAL checkpoints, not at every commit: a killed process loses
        # nothing committed; only a power cut can take back the last commits, never corrupt the file.
        await conn.execute("PRAGMA synchronous=NORMAL")
        yield saver


@contextlib.asynccontextmanager
async def _postgres(db: DatabaseURL) -> AsyncIterator[BaseCheckpointSaver[str]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    assert db.dsn is not None
    search_path = f"-c search_path={db.schema} " if db.schema else ""
    # A checkpoint write is a few autocommit statements; waiting for each one's WAL flush cost
    # 2-6 ms a call (benchmarks/skill_checkpoints.py). Without the wait a committed checkpoint can
    # be lost only if the PostgreSQL server itself crashes within a fraction of a second; the task
    # then resumes from its previous wait, and a step that acts again is made once by its key.
    options = f"{search_path}-c synchronous_commit={SYNCHRONOUS_COMMIT}"
    settings: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row, "options": options}
    async with await AsyncConnection.connect(db.dsn, **settings) as conn:
        if db.schema:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"')
        # Replicas start together: one at a time runs the checkpointer's migrations. The lock is
        # tried, never waited for: a statement blocked on it would hold a transaction open, and the
        # holder's CREATE INDEX CONCURRENTLY waits for every open transaction (a deadlock).
        while not await _try_lock(conn):  # noqa: ASYNC110 - another process holds it; nothing here can signal
            await asyncio.sleep(_LOCK_RETRY_SECONDS)
        try:
            await AsyncPostgresSaver(conn=conn).setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('switchboard.skill_checkpoints'))")
    # The saver serialises its own calls (one lock per saver), so one pooled connection is all it
    # uses; the pool replaces a connection the server dropped instead of failing every later task.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        db.dsn, min_size=1, max_size=CHECKPOINT_CONNECTIONS, kwargs=settings, open=False
    )
    await pool.open(wait=True)
    try:
        yield AsyncPostgresSaver(conn=pool)
    finally:
        await pool.close()


async def _try_lock(conn: Any) -> bool:
    cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtext('switchboard.skill_checkpoints')) AS got")
    row = await cursor.fetchone()
    return bool(row and row["got"])


async def prune_stale(saver: BaseCheckpointSaver[str], older_than_seconds: float) -> int:
    """Delete every thread whose newest checkpoint is older than the cut-off; returns how many.

    Finished tasks delete their own thread; what is left are tasks a caller abandoned while the
    skill waited (a customer who never answered).
    """
    cutoff = time.time() - older_than_seconds
    stale: list[str] = []
    if type(saver).__name__ == "AsyncSqliteSaver":
        sql = (
            "SELECT thread_id FROM checkpoints GROUP BY thread_id "
            f"HAVING MAX(COALESCE(json_extract(CAST(metadata AS TEXT), '$.{STAMP}'), 0)) < ?"
        )
        # The base saver declares no connection; the backend was told by class name, not imported.
        async with saver.conn.execute(sql, (cutoff,)) as cursor:  # type: ignore[attr-defined]
            stale = [str(row[0]) for row in await cursor.fetchall()]
    else:
        sql = (
            "SELECT thread_id FROM checkpoints GROUP BY thread_id "
            f"HAVING MAX(COALESCE((metadata->>'{STAMP}')::float8, 0)) < %s"
        )
        async with saver.conn.connection() as conn, conn.cursor() as cursor:  # type: ignore[attr-defined]  # as above
            await cursor.execute(sql, (cutoff,))
            stale = [str(row["thread_id"]) for row in await cursor.fetchall()]
    for thread in stale:
        await saver.adelete_thread(thread)
    return len(stale)
