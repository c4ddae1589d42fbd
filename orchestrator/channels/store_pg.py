"""The channel store in PostgreSQL, so every orchestrator replica knows every call and link code.

Same tables and rules as the SQLite store (``store.py``). The pool opens on first use: the
channel routes have no start-up hook of their own, and the first voice turn pays for it once.
Each operation is one statement or one transaction, retried on a fresh connection when the
server dropped the old one (all of them are safe to repeat).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from orchestrator.channels.store import Call, _code_hash
from shared.database import DatabaseURL, LazyPool, Retry

if TYPE_CHECKING:
    import asyncpg


_COUNTERS = {"link_attempts": "link_attempts", "silences": "silences"}


class PostgresChannelStore:
    """Link codes (hashed, single use, short-lived) and phone calls attached to conversations."""

    def __init__(self, db: DatabaseURL, *, max_connections: int | None = None) -> None:
        self._pool = LazyPool(db, "channels", what="channel", max_size=max_connections)

    async def _ready(self) -> asyncpg.Pool:
        return await self._pool.get()

    async def _fetch(self, what: str, sql: str, *args: Any) -> list[Any]:
        pool = await self._ready()
        return await Retry(what, pool).run(lambda _: pool.fetch(sql, *args))

    async def open(self) -> None:
        await self._pool.get()

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

    async def begin_call(self, call_sid: str, caller: str | None) -> None:
        await self._fetch(
            "starting a call",
            "INSERT INTO voice_call_info (call_sid, caller) VALUES ($1, $2) ON CONFLICT (call_sid) DO NOTHING",
            call_sid,
            caller,
        )

    async def memory(self, call_sid: str) -> dict[str, Any]:
        rows = await self._fetch("reading a call", "SELECT memory FROM voice_call_info WHERE call_sid = $1", call_sid)
        return dict(json.loads(rows[0][0])) if rows else {}

    async def remember(self, call_sid: str, memory: dict[str, Any]) -> None:
        await self._fetch(
            "updating a call",
            "INSERT INTO voice_call_info (call_sid, memory) VALUES ($1, $2)"
            " ON CONFLICT (call_sid) DO UPDATE SET memory = excluded.memory",
            call_sid,
            json.dumps(memory),
        )

    async def next_step(self, call_sid: str) -> int:
        """A new step number for the call's next answer (``?step=`` in its actions)."""
        rows = await self._fetch(
            "numbering a step",
            "INSERT INTO voice_call_info (call_sid, step) VALUES ($1, 1)"
            " ON CONFLICT (call_sid) DO UPDATE SET step = voice_call_info.step + 1 RETURNING step",
            call_sid,
        )
        return int(rows[0][0])

    async def link_attempts_from(self, caller: str, since: float) -> int:
        """Link codes tried by calls from ``caller`` that started after ``since``."""
        rows = await self._fetch(
            "counting link codes",
            "SELECT COALESCE(SUM(c.link_attempts), 0) FROM voice_calls c JOIN voice_call_info i"
            " ON i.call_sid = c.call_sid WHERE i.caller = $1 AND c.started_at >= $2",
            caller,
            since,
        )
        return int(rows[0][0])

    async def end_call(self, call_sid: str) -> tuple[str | None, bool]:
        """The call ended: its conversation, and whether this is the first report of the end."""
        ended = await self._fetch(
            "ending a call",
            "UPDATE voice_call_info SET ended_at = $1 WHERE call_sid = $2 AND ended_at IS NULL RETURNING call_sid",
            time.time(),
            call_sid,
        )
        # What each step was answered is kept only for retries, which end with the call.
        await self._fetch("ending a call", "DELETE FROM voice_steps WHERE call_sid = $1", call_sid)
        rows = await self._fetch(
            "reading a call", "SELECT conversation_id FROM voice_calls WHERE call_sid = $1", call_sid
        )
        return (rows[0][0] if rows else None), bool(ended)

    async def recent_call_from(self, caller: str, since: float) -> str | None:
        """The conversation of the latest call from ``caller`` that ended after ``since``."""
        rows = await self._fetch(
            "finding a recent call",
            "SELECT c.conversation_id FROM voice_call_info i JOIN voice_calls c ON c.call_sid = i.call_sid"
            " WHERE i.caller = $1 AND i.ended_at >= $2 AND c.conversation_id IS NOT NULL"
            " ORDER BY i.ended_at DESC LIMIT 1",
            caller,
            since,
        )
        return rows[0][0] if rows else None

    async def claim_step(self, call_sid: str, step: int) -> bool:
        """True for the first delivery of a step; False for a retry of one already claimed."""
        rows = await self._fetch(
            "claiming a step",
            "INSERT INTO voice_steps (call_sid, step, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING step",
            call_sid,
            step,
            time.time(),
        )
        return bool(rows)

    async def step(self, call_sid: str, step: int) -> tuple[str | None, str | None]:
        """What the step's first delivery was answered (``answer``) and the turn's own TwiML (``result``)."""
        rows = await self._fetch(
            "reading a step", "SELECT answer, result FROM voice_steps WHERE call_sid = $1 AND step = $2", call_sid, step
        )
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    async def set_step(self, call_sid: str, step: int, *, answer: str | None = None, result: str | None = None) -> None:
        await self._fetch(
            "answering a step",
            "UPDATE voice_steps SET answer = COALESCE(answer, $1), result = COALESCE(result, $2)"
            " WHERE call_sid = $3 AND step = $4",
            answer,
            result,
            call_sid,
            step,
        )
