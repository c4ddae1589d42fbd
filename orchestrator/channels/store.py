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
import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shared.database import DatabaseURL
from shared.migrations import upgrade

if TYPE_CHECKING:
    from orchestrator.channels.store_pg import PostgresChannelStore

# The tables are defined in ``orchestrator.channels.tables`` and created by its revisions.


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
    async def begin_call(self, call_sid: str, caller: str | None) -> None: ...
    async def memory(self, call_sid: str) -> dict[str, Any]: ...
    async def remember(self, call_sid: str, memory: dict[str, Any]) -> None: ...
    async def next_step(self, call_sid: str) -> int: ...
    async def link_attempts_from(self, caller: str, since: float) -> int: ...
    async def end_call(self, call_sid: str) -> tuple[str | None, bool]: ...
    async def recent_call_from(self, caller: str, since: float) -> str | None: ...
    async def claim_step(self, call_sid: str, step: int) -> bool: ...
    async def step(self, call_sid: str, step: int) -> tuple[str | None, str | None]: ...
    async def set_step(
        self, call_sid: str, step: int, *, answer: str | None = None, result: str | None = None
    ) -> None: ...
    async def open(self) -> None:
        """Bring the tables to this release's revision now rather than on first use (start-up)."""
        ...

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
        if not self._ready:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if not self._ready:
            upgrade(DatabaseURL("sqlite", path=self._path), "channels")  # in the worker thread
            self._ready = True
        return conn

    async def open(self) -> None:
        await asyncio.to_thread(lambda: self._connect().close())

    async def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        def work() -> list[tuple[Any, ...]]:
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

    async def begin_call(self, call_sid: str, caller: str | None) -> None:
        await self._run(
            "INSERT INTO voice_call_info (call_sid, caller) VALUES (?, ?) ON CONFLICT(call_sid) DO NOTHING",
            (call_sid, caller),
        )

    async def memory(self, call_sid: str) -> dict[str, Any]:
        rows = await self._run("SELECT memory FROM voice_call_info WHERE call_sid = ?", (call_sid,))
        return dict(json.loads(rows[0][0])) if rows else {}

    async def remember(self, call_sid: str, memory: dict[str, Any]) -> None:
        await self._run(
            "INSERT INTO voice_call_info (call_sid, memory) VALUES (?, ?)"
            " ON CONFLICT(call_sid) DO UPDATE SET memory = excluded.memory",
            (call_sid, json.dumps(memory)),
        )

    async def next_step(self, call_sid: str) -> int:
        """A new step number for the call's next answer (``?step=`` in its actions)."""
        rows = await self._run(
            "INSERT INTO voice_call_info (call_sid, step) VALUES (?, 1)"
            " ON CONFLICT(call_sid) DO UPDATE SET step = step + 1 RETURNING step",
            (call_sid,),
        )
        return int(rows[0][0])

    async def link_attempts_from(self, caller: str, since: float) -> int:
        """Link codes tried by calls from ``caller`` that started after ``since``."""
        rows = await self._run(
            "SELECT COALESCE(SUM(c.link_attempts), 0) FROM voice_calls c JOIN voice_call_info i"
            " ON i.call_sid = c.call_sid WHERE i.caller = ? AND c.started_at >= ?",
            (caller, since),
        )
        return int(rows[0][0])

    async def end_call(self, call_sid: str) -> tuple[str | None, bool]:
        """The call ended: its conversation, and whether this is the first report of the end."""
        ended = await self._run(
            "UPDATE voice_call_info SET ended_at = ? WHERE call_sid = ? AND ended_at IS NULL RETURNING call_sid",
            (time.time(), call_sid),
        )
        # What each step was answered is kept only for retries, which end with the call.
        await self._run("DELETE FROM voice_steps WHERE call_sid = ?", (call_sid,))
        rows = await self._run("SELECT conversation_id FROM voice_calls WHERE call_sid = ?", (call_sid,))
        return (rows[0][0] if rows else None), bool(ended)

    async def recent_call_from(self, caller: str, since: float) -> str | None:
        """The conversation of the latest call from ``caller`` that ended after ``since``."""
        rows = await self._run(
            "SELECT c.conversation_id FROM voice_call_info i JOIN voice_calls c ON c.call_sid = i.call_sid"
            " WHERE i.caller = ? AND i.ended_at >= ? AND c.conversation_id IS NOT NULL"
            " ORDER BY i.ended_at DESC LIMIT 1",
            (caller, since),
        )
        return rows[0][0] if rows else None

    async def claim_step(self, call_sid: str, step: int) -> bool:
        """True for the first delivery of a step; False for a retry of one already claimed."""
        rows = await self._run(
            "INSERT INTO voice_steps (call_sid, step, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING step",
            (call_sid, step, time.time()),
        )
        return bool(rows)

    async def step(self, call_sid: str, step: int) -> tuple[str | None, str | None]:
        """What the step's first delivery was answered (``answer``) and the turn's own TwiML (``result``)."""
        rows = await self._run(
            "SELECT answer, result FROM voice_steps WHERE call_sid = ? AND step = ?", (call_sid, step)
        )
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    async def set_step(self, call_sid: str, step: int, *, answer: str | None = None, result: str | None = None) -> None:
        await self._run(
            "UPDATE voice_steps SET answer = COALESCE(answer, ?), result = COALESCE(result, ?)"
            " WHERE call_sid = ? AND step = ?",
            (answer, result, call_sid, step),
        )

    async def close(self) -> None:
        """Nothing is held open between operations."""
