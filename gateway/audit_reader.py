"""Read-only access to the audit log on either backend, for verification and people's reads.

Readers are synchronous, like the command-line tools that use them; async code runs them in
a worker thread (``asyncio.to_thread``) so a long verification or export never holds up the
gateway's appends. Queries are written once with ``?`` placeholders against the query
columns both backends derive from each record's body (``seq``, ``body``, ``hash``, ``id``,
``time``, ``kind``, ``conversation_id``, ``agent``, ``tool``, ``customer_id``, ``decision``,
``reason``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from shared.audit import AuditRecord, stored_record
from shared.database import DatabaseURL, connection_errors, to_postgres
from shared.errors import NotFound, ServiceUnavailable

AuditLocation = Path | DatabaseURL
BATCH = 4096
# The chain in seq order, bodies as bytes: exactly what was hashed.
CHAIN_SQL = {"sqlite": "SELECT seq, CAST(body AS BLOB), hash FROM audit ORDER BY seq",
             "postgresql": "SELECT seq, convert_to(body, 'UTF8'), hash FROM audit ORDER BY seq"}  # fmt: skip


RECORD_COLUMNS = "seq, body, hash"
"""The columns a record is rebuilt from (``stored_record``), in that order."""


class AuditReader(Protocol):
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
    def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None: ...
    def chain(self) -> Iterator[list[tuple[int, bytes, str]]]: ...
    def has_table(self, name: str) -> bool: ...
    def close(self) -> None: ...


def open_reader(location: AuditLocation) -> AuditReader:
    if isinstance(location, DatabaseURL):
        if location.is_postgres:
            return PostgresReader(location)
        assert location.path is not None
        location = location.path
    return SqliteReader(Path(location))


class SqliteReader:
    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no audit log at {path}")
        self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        self._conn.row_factory = sqlite3.Row
        if self.has_table("audit") and "body" not in {r[1] for r in self._conn.execute("PRAGMA table_info(audit)")}:
            self._conn.close()
            raise NotFound(
                f"the audit log at {path} has the old layout",
                hint="start the gateway once (it migrates the log in place, hashes unchanged), then read it again",
            )

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        return self._conn.execute(sql, tuple(params)).fetchone()

    def chain(self) -> Iterator[list[tuple[int, bytes, str]]]:
        cur = self._conn.cursor()
        cur.row_factory = None
        cur.execute(CHAIN_SQL["sqlite"])
        while rows := cur.fetchmany(BATCH):
            yield rows

    def has_table(self, name: str) -> bool:
        found = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return found.fetchone() is not None

    def close(self) -> None:
        self._conn.close()


class PostgresReader:
    """One connection on a private event loop, so synchronous callers can read PostgreSQL."""

    def __init__(self, db: DatabaseURL) -> None:
        import asyncpg

        self._db = db
        self._loop = asyncio.new_event_loop()
        try:
            self._conn = self._run(asyncpg.connect(db.dsn, server_settings=db.server_settings(), timeout=10))
        except BaseException:
            self._loop.close()
            raise
        if not self.has_table("audit"):
            self.close()
            raise NotFound(f"no audit log in {db.redacted()}", hint="nothing has been recorded there yet")

    def _run(self, coro: Any) -> Any:
        import asyncpg

        try:
            return self._loop.run_until_complete(coro)
        except (*connection_errors(), asyncpg.exceptions.ConnectionDoesNotExistError) as exc:
            raise ServiceUnavailable(
                f"cannot read the audit log in {self._db.redacted()}: {type(exc).__name__}: {exc}",
                hint="check that PostgreSQL runs and that SWITCHBOARD_DATABASE_URL names it, then run this again",
            ) from exc

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        rows: list[Any] = self._run(self._conn.fetch(to_postgres(sql), *params))
        return rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        return self._run(self._conn.fetchrow(to_postgres(sql), *params))

    def chain(self) -> Iterator[list[tuple[int, bytes, str]]]:
        # One snapshot for the whole walk: appends by running gateways do not shift it.
        tx = self._conn.transaction(isolation="repeatable_read", readonly=True)
        self._run(tx.start())
        try:
            cursor = self._run(self._conn.cursor(CHAIN_SQL["postgresql"]))
            while rows := self._run(cursor.fetch(BATCH)):
                yield rows
        finally:
            if not self._conn.is_closed():
                self._run(tx.rollback())

    def has_table(self, name: str) -> bool:
        return bool(self._run(self._conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name)))

    def close(self) -> None:
        try:
            if not self._conn.is_closed():
                self._loop.run_until_complete(self._conn.close(timeout=5))
        except (OSError, RuntimeError):
            pass  # the server already dropped it
        finally:
            self._loop.close()


def read_audit(
    location: AuditLocation, *, conversation_id: str | None = None, agent: str | None = None, limit: int = 100
) -> list[AuditRecord]:
    """The latest ``limit`` records (oldest first), optionally for one conversation or agent."""
    clauses, params = [], []
    if conversation_id is not None:
        clauses.append("conversation_id = ?")
        params.append(conversation_id)
    if agent is not None:
        clauses.append("agent = ?")
        params.append(agent)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    reader = open_reader(location)
    try:
        rows = reader.rows(
            f"SELECT {RECORD_COLUMNS} FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, max(limit, 0))
        )
        return [stored_record(r[1], r[2]) for r in reversed(rows)]
    finally:
        reader.close()
