"""What the channels remember between requests: phone link codes and which call is which conversation.

``open_channel_store`` picks the backend from the database URL (``SWITCHBOARD_DATABASE_URL``):
PostgreSQL (``store_pg.py``) when it names one, so every orchestrator replica answers for every
call; otherwise one small SQLite file beside the conversation store. Each operation opens its own short
connection in a worker thread: channel routes have no start-up/shut-down hook of their own,
and a held ``aiosqlite`` connection would need one to be closed (its thread keeps the process
alive). Opening costs ~0.1 ms against a voice turn of tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.database import DatabaseURL

if TYPE_CHECKING:
    from orchestrator.channels.store_pg import PostgresChannelStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS link_codes (
    code_hash TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE INDEX IF NOT EXISTS link_codes_conversation ON link_codes(conversation_id);
CREATE TABLE IF NOT EXISTS voice_calls (
    call_sid TEXT PRIMARY KEY,
    conversation_id TEXT,
    link_attempts INTEGER NOT NULL DEFAULT 0,
    silences INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL
);
-- The last human-agent reply read out on each call (a table of its own: older files gain it).
CREATE TABLE IF NOT EXISTS voice_heard (
    call_sid TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""


@dataclass
class Call:
    call_sid: str
    conversation_id: str | None
    link_attempts: int
    silences: int


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class ChannelStorage(Protocol):
    """What the link and voice routes need; ``ChannelStore`` (SQLite) and ``PostgresChannelStore``."""

    async def put_link_code(self, code: str, conversation_id: str, ttl_seconds: int) -> float: ...
    async def redeem_link_code(self, code: str) -> str | None: ...
    async def call(self, call_sid: str) -> Call: ...
    async def attach(self, call_sid: str, conversation_id: str) -> None: ...
    async def count(self, call_sid: str, what: str) -> int: ...
    async def human_heard(self, call_sid: str) -> int: ...
    async def set_human_heard(self, call_sid: str, seq: int) -> None: ...
    async def heard(self, call_sid: str) -> None: ...
    async def close(self) -> None: ...


def open_channel_store(url: str | None, *, default_sqlite: Path) -> ChannelStore | PostgresChannelStore:
    """The store ``url`` names, or SQLite at ``default_sqlite`` when it names none.

    A ``sqlite:///`` URL names the conversation store's file; the channel tables stay in their
    own file beside it, as in the default layout.
    """
    db = DatabaseURL.parse(url, default_sqlite=default_sqlite)
    if db.is_postgres:
        from orchestrator.channels.store_pg import PostgresChannelStore

        return PostgresChannelStore(db)
    return ChannelStore(default_sqlite)


class ChannelStore:
    """Link codes (hashed, single use, short-lived) and phone calls attached to conversations."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if not self._ready:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn.executescript(SCHEMA)
            self._ready = True
        return conn

    async def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        def work() -> list[tuple]:
            with closing(self._connect()) as conn:
                return conn.execute(sql, params).fetchall()

        return await asyncio.to_thread(work)

    async def put_link_code(self, code: str, conversation_id: str, ttl_seconds: int) -> float:
        """Store a new code for the conversation, replacing any it had; returns when it expires."""
        expires_at = time.time() + ttl_seconds

        def work() -> None:
            with closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "DELETE FROM link_codes WHERE conversation_id = ? OR expires_at < ?", (conversation_id, time.time())
                )
                conn.execute(
                    "INSERT INTO link_codes (code_hash, conversation_id, expires_at) VALUES (?, ?, ?)",
                    (_code_hash(code), conversation_id, expires_at),
                )
                conn.execute("COMMIT")

        await asyncio.to_thread(work)
        return expires_at

    async def redeem_link_code(self, code: str) -> str | None:
        """The conversation a valid, unused code belongs to; the code is spent either way it was valid."""
        now = time.time()
        rows = await self._run(
            "UPDATE link_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?"
            " RETURNING conversation_id",
            (now, _code_hash(code), now),
        )
        return rows[0][0] if rows else None

    async def call(self, call_sid: str) -> Call:
        """The call's record, created on first sight."""

        def work() -> Call:
            with closing(self._connect()) as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO voice_calls (call_sid, started_at) VALUES (?, ?)", (call_sid, time.time())
                )
                row = conn.execute(
                    "SELECT call_sid, conversation_id, link_attempts, silences FROM voice_calls WHERE call_sid = ?",
                    (call_sid,),
                ).fetchone()
                return Call(*row)

        return await asyncio.to_thread(work)

    async def attach(self, call_sid: str, conversation_id: str) -> None:
        await self._run(
            "UPDATE voice_calls SET conversation_id = ?, silences = 0 WHERE call_sid = ?", (conversation_id, call_sid)
        )

    async def count(self, call_sid: str, what: str) -> int:
        """Add one to a call's ``link_attempts`` or ``silences``; returns the new count."""
        column = {"link_attempts": "link_attempts", "silences": "silences"}[what]
        rows = await self._run(
            f"UPDATE voice_calls SET {column} = {column} + 1 WHERE call_sid = ? RETURNING {column}", (call_sid,)
        )
        return int(rows[0][0]) if rows else 0

    async def human_heard(self, call_sid: str) -> int:
        """The seq of the last human-agent reply this call has read out (0: none yet)."""
        rows = await self._run("SELECT seq FROM voice_heard WHERE call_sid = ?", (call_sid,))
        return int(rows[0][0]) if rows else 0

    async def set_human_heard(self, call_sid: str, seq: int) -> None:
        await self._run(
            "INSERT INTO voice_heard (call_sid, seq) VALUES (?, ?)"
            " ON CONFLICT(call_sid) DO UPDATE SET seq = MAX(seq, excluded.seq)",
            (call_sid, seq),
        )

    async def heard(self, call_sid: str) -> None:
        """The caller said something: the silence count starts again."""
        await self._run("UPDATE voice_calls SET silences = 0 WHERE call_sid = ?", (call_sid,))

    async def close(self) -> None:
        """Nothing is held open between operations."""
