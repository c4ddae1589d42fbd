"""Retention of the orchestrator's classes when they live in PostgreSQL (the scale-out layout).

The same classes and rules as the data directory's (``orchestrator.retention``): conversations
not updated for longer than the retention (escalated ones stay) with their transcripts; events
already published from every store's outbox (each system's schema, and the signals'); the
network-signal log and the reactions. Tables that were purged are vacuumed, so the deleted row
versions do not linger in them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.privacy.postgres import connect, schemas
from shared.database import DatabaseURL

if TYPE_CHECKING:
    import asyncpg

    from orchestrator.retention import Purged, Retention

_OUTBOXES = ("outbox", "signal_outbox")
_SIGNAL_TABLES = (("signal_log", "received_at", "signal log entries"), ("signal_reactions", "at", "signal reactions"))


async def _exists(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1]) if status.rsplit(" ", 1)[-1].isdigit() else 0


async def _transcripts(conn: asyncpg.Connection, base: str, before: float, purged: Purged) -> list[str]:
    if not await _exists(conn, f"{base}.conversations"):
        return []
    old = f"SELECT id FROM {base}.conversations WHERE updated_at < $1 AND status != 'escalated'"
    async with conn.transaction():
        entries = await conn.execute(f"DELETE FROM {base}.transcript WHERE conversation_id IN ({old})", before)
        conversations = await conn.execute(
            f"DELETE FROM {base}.conversations WHERE updated_at < $1 AND status != 'escalated'", before
        )
    purged.add("transcript entries", _count(entries))
    purged.add("conversations", _count(conversations))
    return [f"{base}.transcript", f"{base}.conversations"]


async def _published_events(conn: asyncpg.Connection, db: DatabaseURL, before: float, purged: Purged) -> list[str]:
    touched = []
    for schema in schemas(db):
        for name in _OUTBOXES:
            table = f'"{schema}".{name}'
            if await _exists(conn, table):
                status = await conn.execute(
                    f"DELETE FROM {table} WHERE published_at IS NOT NULL AND created_at < $1", before
                )
                purged.add("published events", _count(status))
                touched.append(table)
    return touched


async def _signals(conn: asyncpg.Connection, base: str, before: float, purged: Purged) -> list[str]:
    touched = []
    for name, column, what in _SIGNAL_TABLES:
        table = f"{base}.{name}"
        if await _exists(conn, table):
            purged.add(what, _count(await conn.execute(f"DELETE FROM {table} WHERE {column} < $1", before)))
            touched.append(table)
    return touched


async def purge_postgres(db: DatabaseURL, retention: Retention, now: float, purged: Purged) -> None:
    base = f'"{db.schema or "public"}"'
    conn = await connect(db)
    try:
        touched: list[str] = []
        if retention.transcripts_days is not None:
            touched += await _transcripts(conn, base, now - retention.transcripts_days * 86400, purged)
        if retention.outbox_days is not None:
            touched += await _published_events(conn, db, now - retention.outbox_days * 86400, purged)
        if retention.signals_days is not None:
            touched += await _signals(conn, base, now - retention.signals_days * 86400, purged)
        for table in touched:
            await conn.execute(f"VACUUM {table}")  # not in a transaction: each its own
    finally:
        await conn.close()
