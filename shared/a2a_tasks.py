"""Where an A2A server keeps its task records: a SQLite file, or PostgreSQL's ``tasks`` table.

The task record (state, history, artifacts) must outlive the process: a specialist's task
waiting for an approval is continued after a restart by its id, and ``GetTask`` still answers
for it; an external agent's ``GetTask`` to the orchestrator's A2A front is answered by whichever
orchestrator process it reaches. The embedded default is one SQLite file (0600) per server
(a specialist's ``tasks.db``, the front's ``a2a_tasks.db``); with ``SWITCHBOARD_DATABASE_URL``
the SDK's ``tasks`` table lives in that database, so any replica can answer for a task.

A record is written when the task settles (waits or ends), the same moments a specialist's
graph checkpoints (durability ``exit``): a task in flight (submitted, working) lives in memory
for the milliseconds it runs. A crash mid-step leaves the record and the checkpoint at the same
wait, which is where the caller continues. One write per turn instead of one per event.

A specialist's SQLite file has one writing process, its own, so what it last wrote or read is
what the file holds: settled tasks, and ids found missing, are answered from memory (a bounded
number, the least recently used forgotten first). The SDK reads a task two or three times per
request; each read through SQLAlchemy and aiosqlite cost about a millisecond of CPU. Where other
processes write too (PostgreSQL; the orchestrator's file, shared by its processes) every read of
a task that may exist goes to the database. Two things hold on every store:

- a task id this process made for a new task (``NewTaskIds``, the SDK's id generator) names no
  record until this process writes one: nobody else can have written it (an A2A client can only
  continue a task the server created), so the SDK's three look-ups of a new task before it first
  settles are answered here, without a round trip each;
- the caller's answer to a wait is kept in memory until the task settles again (``_resumed``),
  judged against the record this process last read or wrote: on PostgreSQL that was one more
  upsert per continued task.
"""

from __future__ import annotations

import os
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from a2a.server.context import ServerCallContext
from a2a.server.id_generator import IDGenerator, IDGeneratorContext
from a2a.server.owner_resolver import OwnerResolver, resolve_user_scope
from a2a.server.tasks import DatabaseTaskStore, InMemoryTaskStore, TaskStore
from a2a.types import ListTasksRequest, ListTasksResponse, Task, TaskState

from shared.database import DatabaseURL, sqlalchemy_engine

_IN_FLIGHT = frozenset({TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING})


class SettledTaskStore(TaskStore):
    """Tasks in flight in memory; a task that waits or ends in ``durable``.

    Where the record this process last read or wrote of each task stood is remembered, per owner,
    up to ``remembered`` of them: a task continued from its wait stays in memory until it settles
    again, like a new one. With ``sole_writer`` (this process is the only one writing ``durable``),
    the record itself, or an id found missing, is also the answer to a read. Ids of new tasks made
    by ``new_task_ids`` are answered as missing, without a read, until their first write.
    """

    def __init__(
        self,
        durable: TaskStore,
        *,
        sole_writer: bool = False,
        owner_of: OwnerResolver | None = None,
        remembered: int = 4096,
    ) -> None:
        self._live = InMemoryTaskStore()
        self._durable = durable
        self._owner_of = owner_of
        self._stood: OrderedDict[tuple[str, str], _Stood] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], Task | None] | None = OrderedDict() if sole_writer else None
        # Ids this process made for new tasks and has not written yet (oldest forgotten first: a
        # forgotten id is read from the store, which is only slower).
        self._unwritten: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    def new_task_ids(self) -> NewTaskIds:
        """The id generator to give the SDK (``SimpleRequestContextBuilder(task_id_generator=...)``)."""
        return NewTaskIds(self)

    def made_new(self, task_id: str) -> None:
        """``task_id`` was just made for a new task here: no record of it exists anywhere yet."""
        self._unwritten[task_id] = None
        if len(self._unwritten) > self._remembered:
            self._unwritten.popitem(last=False)

    async def save(self, task: Task, context: ServerCallContext) -> None:
        if task.status.state in _IN_FLIGHT or self._resumed(task, context):
            await self._live.save(task, context)
            return
        self._unwritten.pop(task.id, None)
        await self._durable.save(task, context)
        self._remember(task.id, task, context)
        if await self._live.get(task.id, context) is not None:
            await self._live.delete(task.id, context)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        live = await self._live.get(task_id, context)
        if live is not None:
            return live
        if task_id in self._unwritten:
            return None
        if self._known is not None and (key := self._key(task_id, context)) in self._known:
            self._known.move_to_end(key)
            return _copy(self._known[key])
        durable = await self._durable.get(task_id, context)
        self._remember(task_id, durable, context)
        return durable

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        """Tasks that waited or ended; one in flight appears when it settles, a moment later."""
        return await self._durable.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        self._unwritten.pop(task_id, None)
        if await self._live.get(task_id, context) is not None:
            await self._live.delete(task_id, context)
        await self._durable.delete(task_id, context)
        self._remember(task_id, None, context)

    def _resumed(self, task: Task, context: ServerCallContext) -> bool:
        """The caller's answer added to a waiting task, whose status is still the stored wait.

        The SDK moves the wait's question into the history and appends the answer; the status
        keeps the wait's state and time stamp until the task reports again (every report is
        stamped anew). The wait is durable already and the checkpoint does not move before the
        task settles again, so neither does the record: a crash leaves both at that wait. Where
        other processes write too, ``stored`` is what this process read a moment ago: had another
        replica written since, skipping this write leaves its newer record in place.
        """
        stood = self._stood.get(self._key(task.id, context))
        stamp = task.status.timestamp
        return (
            stood is not None
            and stood.stamped == (stamp.seconds, stamp.nanos)
            and stood.state == task.status.state
            and stood.history < len(task.history)
        )

    def _key(self, task_id: str, context: ServerCallContext) -> tuple[str, str]:
        owner_of = self._owner_of or resolve_user_scope
        return owner_of(context), task_id

    def _remember(self, task_id: str, task: Task | None, context: ServerCallContext) -> None:
        key = self._key(task_id, context)
        if task is None:
            self._stood.pop(key, None)
        else:
            self._stood[key] = _Stood.of(task)
            self._stood.move_to_end(key)
            if len(self._stood) > self._remembered:
                self._stood.popitem(last=False)
        if self._known is None:
            return
        self._known[key] = _copy(task)
        self._known.move_to_end(key)
        if len(self._known) > self._remembered:
            self._known.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Stood:
    """Where a stored record stood: its status (state and time stamp) and how long its history was."""

    state: int
    stamped: tuple[int, int] | None
    history: int

    @classmethod
    def of(cls, task: Task) -> _Stood:
        stamp = task.status.timestamp
        stamped = (stamp.seconds, stamp.nanos) if task.status.HasField("timestamp") else None
        return cls(task.status.state, stamped, len(task.history))


class NewTaskIds(IDGenerator):
    """The SDK's task ids (random UUIDs, as its default makes them), each noted in ``store`` as
    made here: the SDK looks a new task up before it first settles, and the answer is known."""

    def __init__(self, store: SettledTaskStore) -> None:
        self._store = store

    def generate(self, context: IDGeneratorContext) -> str:
        task_id = str(uuid.uuid4())
        self._store.made_new(task_id)
        return task_id


def _copy(task: Task | None) -> Task | None:
    """A copy the caller may change (the SDK edits the tasks it reads) without changing ours."""
    if task is None:
        return None
    copied = Task()
    copied.CopyFrom(task)
    return copied


def task_store_for(
    database_url: str | None, sqlite_file: Path, *, sole_writer: bool = False
) -> tuple[SettledTaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The A2A task store (PostgreSQL when the URL names it, else ``sqlite_file``), with what to
    run at start-up and shut-down. ``sole_writer``: this process is the only one that writes
    ``sqlite_file``, so settled tasks may be answered from memory (never on PostgreSQL)."""
    durable, prepare, dispose = sql_task_store(database_url, sqlite_file)
    db = DatabaseURL.parse(database_url, default_sqlite=sqlite_file)
    if db.is_postgres:
        return _postgres_task_store(db, durable, prepare, dispose)
    return SettledTaskStore(durable, sole_writer=sole_writer, owner_of=durable.owner_resolver), prepare, dispose


def _postgres_task_store(
    db: DatabaseURL,
    sdk: DatabaseTaskStore,
    prepare_table: Callable[[], Awaitable[None]],
    dispose: Callable[[], Awaitable[None]],
) -> tuple[SettledTaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """Rows written and read one statement each over asyncpg (``a2a_tasks_pg``); the SDK's
    store creates the table and answers ``list``. Other replicas write too: every read of a
    settled task goes to the database."""
    from shared.a2a_tasks_pg import PostgresTaskTable

    table = PostgresTaskTable(db, sdk)

    async def prepare() -> None:
        await prepare_table()
        await table.open()

    async def close() -> None:
        await table.close()
        await dispose()

    return SettledTaskStore(table, owner_of=sdk.owner_resolver), prepare, close


def sql_task_store(
    database_url: str | None, sqlite_file: Path
) -> tuple[DatabaseTaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The SDK's SQL task store on PostgreSQL or ``sqlite_file``, with what creates its table at
    start-up and what closes its connections."""
    from a2a.server.models import Base
    from sqlalchemy import Table, event, text

    db = DatabaseURL.parse(database_url, default_sqlite=sqlite_file)
    # On PostgreSQL the rows go through ``a2a_tasks_pg``'s pool; the SDK's engine only creates the
    # table and answers ``list`` (rare), on a connection of its own that it closes after each use.
    engine = sqlalchemy_engine(db, pooled=not db.is_postgres)
    durable = DatabaseTaskStore(engine, create_table=False)
    if not db.is_postgres:
        # With WAL and synchronous=NORMAL a commit is a write to the log, not an fsync, and a
        # crash loses at most the last write, never the file's consistency.
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # Several processes may write one file (the orchestrator's): a save reads then writes,
        # and a read transaction that another process's commit made stale cannot become a write
        # (SQLite answers "locked" at once, without waiting). Taking the write lock at BEGIN
        # makes the busy timeout apply instead (SQLAlchemy's documented recipe).
        event.listen(engine.sync_engine, "begin", _begin_immediate)

    async def prepare() -> None:
        if db.path is not None:
            db.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db.path.touch(mode=0o600, exist_ok=True)
            os.chmod(db.path, 0o600)
        # Replicas start together: the advisory lock lets one create the schema and table.
        async with engine.begin() as conn:
            if db.is_postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('switchboard.a2a_tasks'))"))
                if db.schema:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            await conn.run_sync(Base.metadata.create_all, tables=[cast(Table, durable.task_model.__table__)])
            if db.is_postgres:
                # The SDK declares ids as VARCHAR(36) (a bare UUID); a context id is our conversation
                # id ("conv-" and 32 hex digits), so widen both. A no-op once done.
                for column in ("id", "context_id"):
                    await conn.execute(text(f"ALTER TABLE tasks ALTER COLUMN {column} TYPE VARCHAR(255)"))

    return durable, prepare, engine.dispose


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver begins nothing itself: ``_begin_immediate`` does
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
