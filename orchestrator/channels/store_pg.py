"""The channel store in PostgreSQL, so every orchestrator replica knows every call and link code.

Same tables and rules as the SQLite store (``store.py``). The pool opens on first use: the
channel routes have no start-up hook of their own, and the first voice turn pays for it once.
Each operation is one statement or one transaction, retried on a fresh connection when the
server dropped the old one (all of them are safe to repeat).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from orchestrator.channels.store import SCHEMA, Call, _code_hash
from shared.database import DatabaseURL, LazyPool, Retry, postgres_ddl

if TYPE_CHECKING:
    import asyncpg

_DDL = postgres_ddl(SCHEMA)  # the SQLite tables, in PostgreSQL types

_COUNTERS = {"link_attempts": "link_attempts", "silences": "silences"}


class PostgresChannelStore:
    """Link codes (hashed, single use, short-lived) and phone calls attached to conversations."""

    def __init__(self, db: DatabaseURL, *, max_connections: int | None = None) -> None:
        self._pool = LazyPool(db, _DDL, lock="switchboard.channels", what="channel", max_size=max_connections)

    async def _ready(self) -> asyncpg.Pool:
        return await self._pool.get()

    async def _fetch(self, what: str, sql: str, *args: Any) -> list[Any]:
        pool = await self._ready()
        return await Retry(what, pool).run(lambda _: pool.fetch(sql, *args))

    async def close(self) -> None:
        await self._pool.close()

    async def put_link_code(self, code: str, conversation_id: str, ttl_seconds: int) -> float:
        """Store a new code for the conversation, replacing any it had; returns when it expires."""
        pool = await self._ready()
        now = time.time()
        expires_at = now + ttl_seconds

        async def write(attempt: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "DELETE FROM link_codes WHERE conversation_id = $1 OR expires_at < $2", conversation_id, now
                )
                await conn.execute(
                    "INSERT INTO link_codes (code_hash, conversation_id, expires_at) VALUES ($1, $2, $3)",
                    _code_hash(code),
                    conversation_id,
                    expires_at,
                )

        await Retry("storing a link code", pool).run(write)
        return expires_at

    async def redeem_link_code(self, code: str) -> str | None:
        """The conversation a valid, unused code belongs to; the code is spent either way it was valid."""
        now = time.time()
        rows = await self._fetch(
            "redeeming a link code",
            "UPDATE link_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1"
            " RETURNING conversation_id",
            now,
            _code_hash(code),
        )
        return rows[0][0] if rows else None

    async def call(self, call_sid: str) -> Call:
        """The call's record, created on first sight."""
        rows = await self._fetch(
            "reading a call",
            # DO UPDATE (a no-op) rather than DO NOTHING: it returns the row even when another
            # replica inserted it a moment ago, which a separate SELECT could not yet see.
            "INSERT INTO voice_calls (call_sid, started_at) VALUES ($1, $2)"
            " ON CONFLICT (call_sid) DO UPDATE SET call_sid = excluded.call_sid"
            " RETURNING call_sid, conversation_id, link_attempts, silences",
            call_sid,
            time.time(),
        )
        return Call(*rows[0])

    async def attach(self, call_sid: str, conversation_id: str) -> None:
        await self._fetch(
            "attaching a call",
            "UPDATE voice_calls SET conversation_id = $1, silences = 0 WHERE call_sid = $2",
            conversation_id,
            call_sid,
        )

    async def count(self, call_sid: str, what: str) -> int:
        """Add one to a call's ``link_attempts`` or ``silences``; returns the new count."""
        column = _COUNTERS[what]
        rows = await self._fetch(
            "counting on a call",
            f"UPDATE voice_calls SET {column} = {column} + 1 WHERE call_sid = $1 RETURNING {column}",
            call_sid,
        )
        return int(rows[0][0]) if rows else 0

    async def human_heard(self, call_sid: str) -> int:
        """The seq of the last human-agent reply this call has read out (0: none yet)."""
        rows = await self._fetch("reading a call", "SELECT seq FROM voice_heard WHERE call_sid = $1", call_sid)
        return int(rows[0][0]) if rows else 0

    async def set_human_heard(self, call_sid: str, seq: int) -> None:
        await self._fetch(
            "updating a call",
            "INSERT INTO voice_heard (call_sid, seq) VALUES ($1, $2)"
            " ON CONFLICT (call_sid) DO UPDATE SET seq = GREATEST(voice_heard.seq, excluded.seq)",
            call_sid,
            seq,
        )

    async def heard(self, call_sid: str) -> None:
        """The caller said something: the silence count starts again."""
        await self._fetch("updating a call", "UPDATE voice_calls SET silences = 0 WHERE call_sid = $1", call_sid)
