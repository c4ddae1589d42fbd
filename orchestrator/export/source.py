"""Reading conversations and their audit trail for export (read-only; safe while services run).

Conversations come from where the orchestrator keeps them: the SQLite file under the data
directory by default, or the database ``database_url`` names (``SWITCHBOARD_DATABASE_URL``),
PostgreSQL included. Export is a batch job with a synchronous API; a PostgreSQL read runs on
its own short-lived connection in a worker thread, so it works from sync and async callers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.conversations import ConversationState, TranscriptEntry
from shared.audit import AuditRecord
from shared.database import DatabaseURL
from shared.errors import InvalidRequest, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True)
class PhoneCall:
    """A phone call that carried part of the conversation (from the channel store)."""

    call_sid: str
    caller: str | None
    started_at: float
    ended_at: float | None


@dataclass
class ConversationRecord:
    state: ConversationState
    transcript: list[TranscriptEntry]
    audit: list[AuditRecord]
    calls: list[PhoneCall] = field(default_factory=list)


def _where(data_dir: Path, database_url: str | None) -> DatabaseURL:
    return DatabaseURL.parse(database_url, default_sqlite=Path(data_dir) / "conversations.db")


def _open(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise InvalidRequest(f"no conversations at {path}", hint="point --data-dir at a Switchboard data directory")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite(db: DatabaseURL, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    assert db.path is not None
    with closing(_open(db.path)) as conn:
        return conn.execute(sql, params).fetchall()


def _postgres[T](db: DatabaseURL, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    import asyncpg

    async def run() -> T:
        assert db.dsn is not None
        try:
            conn = await asyncpg.connect(db.dsn, server_settings=db.server_settings(), timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            raise ServiceUnavailable(
                f"cannot reach PostgreSQL at {db.redacted()}: {exc}", hint="check SWITCHBOARD_DATABASE_URL"
            ) from exc
        try:
            return await work(conn)
        except asyncpg.UndefinedTableError:
            raise InvalidRequest(
                f"no conversations in {db.redacted()}", hint="point SWITCHBOARD_DATABASE_URL at the orchestrator's"
            ) from None
        finally:
            await conn.close()

    # A thread of its own: asyncio.run needs a thread without a running loop.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vcon-export") as pool:
        return pool.submit(asyncio.run, run()).result()


def _rows(db: DatabaseURL, sqlite_sql: str, pg_sql: str, *params: Any) -> list[tuple[Any, ...]]:
    if not db.is_postgres:
        return _sqlite(db, sqlite_sql, params)

    async def fetch(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await conn.fetch(pg_sql, *params)]

    return _postgres(db, fetch)


def _audit(data_dir: Path, conversation_id: str) -> list[AuditRecord]:
    from gateway import read_audit

    db = Path(data_dir) / "audit.db"
    return read_audit(db, conversation_id=conversation_id, limit=100_000) if db.exists() else []


_CALLS_SQL = (
    "SELECT c.call_sid, i.caller, c.started_at, i.ended_at FROM voice_calls c"
    " LEFT JOIN voice_call_info i ON i.call_sid = c.call_sid WHERE c.conversation_id = {} ORDER BY c.started_at"
)


def _calls(db: DatabaseURL, conversation_id: str) -> list[PhoneCall]:
    """The conversation's phone calls; none when the channel tables were never made."""
    if db.is_postgres:
        import asyncpg

        async def read(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
            try:
                return [tuple(r) for r in await conn.fetch(_CALLS_SQL.format("$1"), conversation_id)]
            except asyncpg.UndefinedTableError:
                return []

        rows = _postgres(db, read)
    else:
        assert db.path is not None
        path = db.path.with_name("channels.db")  # the channel store's file beside the conversations
        if not path.exists():
            return []
        try:
            rows = _sqlite(DatabaseURL.parse(None, default_sqlite=path), _CALLS_SQL.format("?"), (conversation_id,))
        except sqlite3.OperationalError:  # a channel store from before calls were recorded
            return []
    return [PhoneCall(*row) for row in rows]


def load_conversation(data_dir: Path, conversation_id: str, *, database_url: str | None = None) -> ConversationRecord:
    db = _where(data_dir, database_url)
    if db.is_postgres:

        async def read(conn: asyncpg.Connection) -> tuple[Any, list[Any]]:
            state = await conn.fetchval("SELECT state::text FROM conversations WHERE id = $1", conversation_id)
            entries = await conn.fetch(
                "SELECT entry::text FROM transcript WHERE conversation_id = $1 ORDER BY seq", conversation_id
            )
            return state, [e[0] for e in entries]

        state_json, entries = _postgres(db, read)
    else:
        assert db.path is not None
        with closing(_open(db.path)) as conn:
            row = conn.execute("SELECT state FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            state_json = row[0] if row else None
            entries = [
                e[0]
                for e in conn.execute(
                    "SELECT entry FROM transcript WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
                )
            ]
    if state_json is None:
        raise NotFound(f"no conversation {conversation_id!r}", hint="list them with `switchboard export vcon --since`")
    return ConversationRecord(
        state=ConversationState.model_validate_json(state_json),
        transcript=[TranscriptEntry.model_validate_json(e) for e in entries],
        audit=_audit(data_dir, conversation_id),
        calls=_calls(db, conversation_id),
    )


def conversation_ids(
    data_dir: Path, *, since: float | None = None, until: float | None = None, database_url: str | None = None
) -> list[str]:
    """Conversations last updated within [since, until), oldest first."""
    rows = _rows(
        _where(data_dir, database_url),
        "SELECT id FROM conversations WHERE updated_at >= ? AND updated_at < ? ORDER BY updated_at, id",
        "SELECT id FROM conversations WHERE updated_at >= $1 AND updated_at < $2 ORDER BY updated_at, id",
        since if since is not None else 0.0,
        until if until is not None else float("inf"),
    )
    return [r[0] for r in rows]


def finished_conversations(
    data_dir: Path, *, now: float, idle_seconds: float, database_url: str | None = None
) -> list[tuple[str, float]]:
    """(id, updated_at) of finished conversations: closed, or idle for ``idle_seconds``."""
    rows = _rows(
        _where(data_dir, database_url),
        "SELECT id, updated_at FROM conversations WHERE status = 'closed' OR updated_at <= ? ORDER BY updated_at, id",
        "SELECT id, updated_at FROM conversations WHERE status = 'closed' OR updated_at <= $1 ORDER BY updated_at, id",
        now - idle_seconds,
    )
    return [(r[0], r[1]) for r in rows]
