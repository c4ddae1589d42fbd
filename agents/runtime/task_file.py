"""A specialist's ``tasks.db``: the SDK's ``tasks`` table, written and read one statement at a time.

The SDK's SQL store goes through SQLAlchemy's ORM: a save is a session, a read by key, a merge
and a commit, about 2.6 ms of CPU, and a read about 1.3 ms; a specialist makes one or two of each
per turn. The specialist is the only writer of its file, so it writes a row with one upsert and
reads one with one select over its own aiosqlite connection, each one trip to its thread (about
0.1 ms).

The rows are the SDK's: the same table, columns and values its ``DatabaseTaskStore`` writes,
each value encoded by the column's own SQLAlchemy type. So the SDK's store on the same file
still reads them, and answers ``list`` (rare, and all filtering and paging are its own); a row
of an older protocol version is read by it too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import aiosqlite
from a2a.server.context import ServerCallContext
from a2a.server.tasks import DatabaseTaskStore, TaskStore
from a2a.types import ListTasksRequest, ListTasksResponse, Task
from google.protobuf.json_format import MessageToDict, ParseDict
from sqlalchemy import Table

PROTOCOL_VERSION = "1.0"
"""The row format this store writes and reads itself (the SDK's current one)."""

_READ = ("context_id", "status", "artifacts", "history", "metadata", "protocol_version")


class SqliteTaskFile(TaskStore):
    """Tasks in ``path``, which this process alone writes; ``sdk`` is the SDK's store on the same
    file (its table, its owner resolver, and ``list``)."""

    def __init__(self, path: Path, sdk: DatabaseTaskStore) -> None:
        self._path = path
        self._sdk = sdk
        table = cast(Table, sdk.task_model.__table__)
        dialect = sdk.engine.dialect
        self._encode: dict[str, Callable[[Any], Any] | None] = {
            c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns
        }
        self._decode: dict[str, Callable[[Any], Any] | None] = {
            name: table.c[name].type.dialect_impl(dialect).result_processor(dialect, None) for name in _READ
        }
        self._columns = [c.name for c in table.columns]
        written = ", ".join(f'"{c}"' for c in self._columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in self._columns if c != "id")
        self._upsert = (
            f'INSERT INTO "{table.name}" ({written}) VALUES ({", ".join("?" for _ in self._columns)}) '
            f"ON CONFLICT (id) DO UPDATE SET {updates}"
        )
        read = ", ".join(f'"{c}"' for c in _READ)
        self._select = f'SELECT {read} FROM "{table.name}" WHERE id = ? AND owner = ?'
        self._delete = f'DELETE FROM "{table.name}" WHERE id = ? AND owner = ?'
        self._conn: aiosqlite.Connection | None = None

    async def open(self) -> None:
        """Connect; the table exists already (the SDK's store creates it)."""
        # Autocommit: each call is one statement, so each is its own transaction.
        conn = await aiosqlite.connect(self._path, isolation_level=None)
        # As the SDK's engine on this file: a commit is a write to the log, not an fsync; a crash
        # loses at most the last write, never the file's consistency.
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
            async with conn.execute(f"PRAGMA {pragma}"):
                pass
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def _db(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the task file is used before start-up opened it")
        return self._conn

    async def save(self, task: Task, context: ServerCallContext) -> None:
        # The values the SDK's store maps a task to; the id is the key, as in its merge.
        row: dict[str, Any] = {
            "id": task.id,
            "context_id": task.context_id,
            "kind": "task",
            "owner": self._sdk.owner_resolver(context),
            "last_updated": task.status.timestamp.ToDatetime() if task.status.HasField("timestamp") else None,
            "status": MessageToDict(task.status),
            "artifacts": [MessageToDict(a) for a in task.artifacts],
            "history": [MessageToDict(m) for m in task.history],
            "metadata": MessageToDict(task.metadata) if task.metadata.fields else None,
            "protocol_version": PROTOCOL_VERSION,
        }
        await self._db.execute_fetchall(self._upsert, [_coded(self._encode[c], row.get(c)) for c in self._columns])

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        rows = list(await self._db.execute_fetchall(self._select, (task_id, self._sdk.owner_resolver(context))))
        if not rows:
            return None
        values = {name: _coded(self._decode[name], value) for name, value in zip(_READ, rows[0], strict=True)}
        if values["protocol_version"] != PROTOCOL_VERSION:
            return await self._sdk.get(task_id, context)
        task = Task(id=task_id, context_id=values["context_id"])
        if values["status"]:
            ParseDict(values["status"], task.status)
        for artifact in values["artifacts"] or ():
            ParseDict(artifact, task.artifacts.add())
        for message in values["history"] or ():
            ParseDict(message, task.history.add())
        if values["metadata"]:
            task.metadata.update(values["metadata"])
        return task

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self._sdk.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self._db.execute_fetchall(self._delete, (task_id, self._sdk.owner_resolver(context)))


def _coded(processor: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if processor is None else processor(value)
