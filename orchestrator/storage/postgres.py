"""Conversations in PostgreSQL, shared by every orchestrator replica.

Same rows as the SQLite store (JSON state with a version, append-only transcript), as JSONB
so operators can query them. Each operation retries on a fresh connection when the server
dropped the old one; a turn's write is one transaction, so a retry never doubles it.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING

from orchestrator.conversations import ConversationState, TranscriptEntry, _token_hash, conflict
from shared.database import DatabaseURL, Retry, open_pool_with_tables
from shared.errors import NotFound, Unauthenticated

if TYPE_CHECKING:
    import asyncpg

_UPDATE = (
    "UPDATE conversations SET state = $1::jsonb, customer_id = $2, status = $3, updated_at = $4,"
    " version = version + 1 WHERE id = $5 AND version = $6"
)
_SAVE_TURN = (
    f"WITH updated AS ({_UPDATE} RETURNING id),"
    # The snapshot is the statement's: every transcript row committed before it is counted, and
    # any later writer must first pass the version this statement holds.
    " last AS (SELECT COALESCE(MAX(seq), 0) AS seq FROM transcript WHERE conversation_id = $5),"
    " appended AS (INSERT INTO transcript (conversation_id, seq, entry)"
    " SELECT $5, last.seq + e.n, jsonb_set(e.entry::jsonb, '{seq}', to_jsonb(last.seq + e.n)) FROM updated, last,"
    " unnest($7::text[]) WITH ORDINALITY AS e(entry, n))"
    " SELECT last.seq FROM updated, last"
)
"""The turn's state and its transcript entries in one statement: the number of the last entry
before them when the version matched, no row when it did not."""


AUTHORIZED_REMEMBERED = 10_000
"""Conversation tokens a process remembers as checked (the least recently used forgotten first)."""


class PostgresConversationStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # (conversation id, token hash) pairs the database confirmed. A conversation's token hash is
        # written once, with its row, and never changed, so a confirmed pair stays right: a turn
        # costs no round trip for it after the first. Refusals are not remembered.
        self._authorized: OrderedDict[tuple[str, str], None] = OrderedDict()

    @classmethod
    async def open(cls, db: DatabaseURL, *, max_connections: int | None = None) -> PostgresConversationStore:
        pool = await open_pool_with_tables(db, "conversations", what="conversation", max_size=max_connections)
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    async def create(self, channel: str) -> tuple[ConversationState, str]:
        """A new conversation and the secret token its customer uses to reach it."""
        state = ConversationState(conversation_id=f"conv-{uuid.uuid4().hex}", channel=channel)
        token = secrets.token_urlsafe(24)
        args = (state.conversation_id, _token_hash(token), state.model_dump_json(), state.status, state.updated_at)

        async def insert(attempt: int) -> None:
            # ON CONFLICT: a retry after a commit whose answer was lost finds its own row.
            await self._pool.execute(
                "INSERT INTO conversations (id, token_hash, state, customer_id, status, updated_at)"
                " VALUES ($1, $2, $3::jsonb, NULL, $4, $5) ON CONFLICT (id) DO NOTHING",
                *args,
            )

        await Retry("starting a conversation", self._pool).run(insert)
        return state, token

    async def load(self, conversation_id: str) -> ConversationState:
        row = await Retry("loading a conversation", self._pool).run(
            lambda _: self._pool.fetchrow(
                "SELECT state::text, version FROM conversations WHERE id = $1", conversation_id
            )
        )
        if row is None:
            raise NotFound(f"no conversation {conversation_id!r}", hint="start a new conversation")
        state = ConversationState.model_validate_json(row[0])
        state._version = row[1]
        return state

    async def authorize(self, conversation_id: str, token: str) -> None:
        presented = _token_hash(token or "")
        key = (conversation_id, presented)
        if key in self._authorized:
            self._authorized.move_to_end(key)
            return
        stored = await Retry("checking a conversation token", self._pool).run(
            lambda _: self._pool.fetchval("SELECT token_hash FROM conversations WHERE id = $1", conversation_id)
        )
        # Same answer for "no such conversation" and "wrong token": ids are not to be probed.
        if stored is None or not hmac.compare_digest(stored, presented):
            raise Unauthenticated("unknown conversation or wrong conversation token")
        self._authorized[key] = None
        if len(self._authorized) > AUTHORIZED_REMEMBERED:
            self._authorized.popitem(last=False)

    async def save_turn(self, state: ConversationState, entries: list[TranscriptEntry]) -> None:
        """Write the state and append ``entries``, if no other turn saved since ``state`` was loaded."""
        state.updated_at = time.time()
        state_json = state.model_dump_json()
        customer_id = state.customer.customer_id if state.customer else None
        expected = state._version
        entry_json = [entry.model_dump_json() for entry in entries]  # each entry's seq is set by the statement

        async def write(attempt: int) -> None:
            # One statement, so one round trip and its own transaction: the UPDATE's row lock
            # orders concurrent writers (a waiting one re-checks the version once the first
            # commits and updates nothing), and the transcript rows follow only if it updated.
            last = await self._pool.fetchval(
                _SAVE_TURN,
                state_json,
                customer_id,
                state.status,
                state.updated_at,
                state.conversation_id,
                expected,
                entry_json,
            )
            if last is None:
                async with self._pool.acquire() as conn:
                    if attempt and await _already_written(conn, state.conversation_id, state_json, expected):
                        return  # the previous attempt committed; only its answer was lost
                    if await conn.fetchval("SELECT 1 FROM conversations WHERE id = $1", state.conversation_id) is None:
                        raise NotFound(f"no conversation {state.conversation_id!r}")
                raise conflict(state.conversation_id)
            for offset, entry in enumerate(entries, start=1):
                entry.seq = last + offset

        await Retry("saving a turn", self._pool).run(write)
        state._version = expected + 1

    async def transcript(self, conversation_id: str) -> list[TranscriptEntry]:
        rows = await Retry("reading a transcript", self._pool).run(
            lambda _: self._pool.fetch(
                "SELECT entry::text FROM transcript WHERE conversation_id = $1 ORDER BY seq", conversation_id
            )
        )
        return [TranscriptEntry.model_validate_json(r[0]) for r in rows]

    async def with_status(self, status: str, limit: int = 500) -> list[ConversationState]:
        """Conversations in one status (e.g. the escalation queue), least recently updated first."""
        return await self._states(
            "listing conversations by status",
            "SELECT state::text, version FROM conversations WHERE status = $1 ORDER BY updated_at LIMIT $2",
            status,
            limit,
        )

    async def conversations_for_customer(self, customer_id: str) -> list[ConversationState]:
        return await self._states(
            "listing a customer's conversations",
            "SELECT state::text, version FROM conversations WHERE customer_id = $1 ORDER BY updated_at",
            customer_id,
        )

    async def _states(self, what: str, sql: str, *args: object) -> list[ConversationState]:
        rows = await Retry(what, self._pool).run(lambda _: self._pool.fetch(sql, *args))
        states = []
        for text, version in rows:
            state = ConversationState.model_validate_json(text)
            state._version = version
            states.append(state)
        return states


async def _already_written(conn: asyncpg.Connection, conversation_id: str, state_json: str, expected: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM conversations WHERE id = $1 AND version = $2 AND state = $3::jsonb",
            conversation_id,
            expected + 1,
            state_json,
        )
    )
