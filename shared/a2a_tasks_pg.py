"""The SDK's ``tasks`` table on PostgreSQL, written and read one statement at a time over asyncpg.

The SDK's SQL store goes through SQLAlchemy's ORM: a save is a session, a read by key, a merge and
a commit (four round trips, and about 2.6 ms of CPU), and a read is BEGIN, SELECT and ROLLBACK
(about 1.3 ms). Every replica of a specialist, and every orchestrator, reads a task from the
database two or three times per request, so here a save is one upsert and a read one select, each
a single round trip on a pooled connection.

The rows are the SDK's: the same table, columns and values its ``DatabaseTaskStore`` writes, so
the SDK's store on the same table still reads them and answers ``list`` (rare; its filtering and
paging are its own), and a row of an older protocol version is read by it too. A single
statement is as safe as the SDK's transaction: at READ COMMITTED its merge took no lock between
its read and its write either.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from a2a.server.context import ServerCallContext
from a2a.server.tasks import DatabaseTaskStore, TaskStore
from a2a.types import ListTasksRequest, ListTasksResponse, Task
from google.protobuf.json_format import MessageToDict, ParseDict
from sqlalchemy import Table

from shared.database import DatabaseURL, Retry, create_pool
from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    import asyncpg

PROTOCOL_VERSION = "1.0"
"""The row format this store writes and reads itself (the SDK's current one)."""


class PostgresTaskTable(TaskStore):
    """Tasks in the SDK's table on ``db``; ``sdk`` is the SDK's store on the same table (its table
    name, its owner resolver, and ``list``)."""

    def __init__(self, db: DatabaseURL, sdk: DatabaseTaskStore) -> None:
        self._db = db
        self._sdk = sdk
        name = cast(Table, sdk.task_model.__table__).name
        self._upsert = (
            f'INSERT INTO "{name}" (id, context_id, kind, owner, last_updated, status, artifacts, history,'
            " metadata, protocol_version) VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8::json, $9::json, $10)"
            " ON CONFLICT (id) DO UPDATE SET context_id = excluded.context_id, kind = excluded.kind,"
            " owner = excluded.owner, last_updated = excluded.last_updated, status = excluded.status,"
            " artifacts = excluded.artifacts, history = excluded.history, metadata = excluded.metadata,"
            " protocol_version = excluded.protocol_version"
        )
        self._select = (
            "SELECT context_id, status::text, artifacts::text, history::text, metadata::text, protocol_version"
            f' FROM "{name}" WHERE id = $1 AND owner = $2'
        )
        self._delete = f'DELETE FROM "{name}" WHERE id = $1 AND owner = $2'
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        """Connect; the table exists already (the SDK's store creates it)."""
        self._pool = await create_pool(self._db)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            raise ServiceUnavailable("the task store is not open yet", hint="retry once the server has started")
        return self._pool

    async def save(self, task: Task, context: ServerCallContext) -> None:
        # The values the SDK's store maps a task to; the id is the key, as in its merge.
        pool = self._connections
        values = (
            task.id,
            task.context_id,
            "task",
            self._sdk.owner_resolver(context),
            task.status.timestamp.ToDatetime() if task.status.HasField("timestamp") else None,
            json.dumps(MessageToDict(task.status)),
            json.dumps([MessageToDict(a) for a in task.artifacts]),
            json.dumps([MessageToDict(m) for m in task.history]),
            json.dumps(MessageToDict(task.metadata)) if task.metadata.fields else None,
            PROTOCOL_VERSION,
        )
        await Retry("saving a task", pool).run(lambda _: pool.execute(self._upsert, *values))

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        pool, owner = self._connections, self._sdk.owner_resolver(context)
        row = await Retry("reading a task", pool).run(lambda _: pool.fetchrow(self._select, task_id, owner))
        if row is None:
            return None
        context_id, status, artifacts, history, metadata, version = row
        if version != PROTOCOL_VERSION:
            return await self._sdk.get(task_id, context)
        task = Task(id=task_id, context_id=context_id)
        if status:
            ParseDict(json.loads(status), task.status)
        for artifact in _list(artifacts):
            ParseDict(artifact, task.artifacts.add())
        for message in _list(history):
            ParseDict(message, task.history.add())
        if metadata and (fields := json.loads(metadata)):
            task.metadata.update(fields)
        return task

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self._sdk.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        pool, owner = self._connections, self._sdk.owner_resolver(context)
        await Retry("deleting a task", pool).run(lambda _: pool.execute(self._delete, task_id, owner))


def _list(text: str | None) -> list[dict[str, Any]]:
    """A JSON array column: SQL NULL and JSON null read as empty."""
    return (json.loads(text) if text else None) or []
