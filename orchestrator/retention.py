"""Retention of the data directory's own classes: transcripts, the message outbox and signals.

- *transcripts*: conversations (their state and every transcript entry) not updated for longer
  than the retention; an escalated conversation a person may still work on is kept;
- *outbox*: messages "sent" (``outbox.jsonl``) and events already published from each store's
  event outbox;
- *signals*: the network-signal log and the reactions taken on them.

With the stores on PostgreSQL, ``purge_everywhere`` purges the same classes there
(``retention_pg``). The audit classes (raw tool arguments, audit bodies) are the gateway's (``gateway.retention``),
which prunes them itself on the same schedule. Every purge writes with ``secure_delete`` and
truncates the write-ahead log afterwards, so what expired is gone from the files too.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestrator.privacy.stores import sqlite_files, tables

OUTBOX_FILE = "outbox.jsonl"


@dataclass(frozen=True)
class Retention:
    """Days each class is kept; None keeps it for ever."""

    transcripts_days: float | None = None
    outbox_days: float | None = None
    signals_days: float | None = None


@dataclass
class Purged:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, count: int) -> None:
        if count:
            self.counts[what] = self.counts.get(what, 0) + count


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def _finish(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _transcripts(data_dir: Path, before: float, purged: Purged) -> None:
    path = data_dir / "conversations.db"
    if not path.exists():
        return
    conn = _open(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        old = "SELECT id FROM conversations WHERE updated_at < ? AND status != 'escalated'"
        purged.add(
            "transcript entries",
            conn.execute(f"DELETE FROM transcript WHERE conversation_id IN ({old})", (before,)).rowcount,
        )
        purged.add(
            "conversations",
            conn.execute(
                "DELETE FROM conversations WHERE updated_at < ? AND status != 'escalated'", (before,)
            ).rowcount,
        )
        conn.execute("COMMIT")
    finally:
        _finish(conn)


def _published_events(data_dir: Path, before: float, purged: Purged) -> None:
    for path in sqlite_files(data_dir):
        conn = _open(path)
        try:
            if "outbox" in tables(conn):
                purged.add(
                    "published events",
                    conn.execute(
                        "DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < ?", (before,)
                    ).rowcount,
                )
        finally:
            _finish(conn)


def _when(message: dict[str, object]) -> float | None:
    at = message.get("at")
    if isinstance(at, (int, float)):
        return float(at)
    if isinstance(at, str):
        try:
            return datetime.fromisoformat(at).timestamp()
        except ValueError:
            return None
    return None


def _outbox_messages(data_dir: Path, before: float, purged: Purged) -> None:
    path = data_dir / OUTBOX_FILE
    if not path.exists():
        return
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            dropped += 1  # a torn line from a crash: nothing worth keeping
            continue
        when = _when(message) if isinstance(message, dict) else None
        if when is not None and when < before:
            dropped += 1
        else:
            kept.append(line)
    if dropped:
        tmp = path.with_name(path.name + ".retention")
        tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
        purged.add("outbox messages", dropped)


def _signals(data_dir: Path, before: float, purged: Purged) -> None:
    path = data_dir / "signals.db"
    if not path.exists():
        return
    conn = _open(path)
    try:
        names = tables(conn)
        if "signal_log" in names:
            purged.add(
                "signal log entries", conn.execute("DELETE FROM signal_log WHERE received_at < ?", (before,)).rowcount
            )
        if "reactions" in names:
            purged.add("signal reactions", conn.execute("DELETE FROM reactions WHERE at < ?", (before,)).rowcount)
    finally:
        _finish(conn)


def purge(data_dir: Path, retention: Retention, now: float | None = None) -> Purged:
    """Delete what has expired in the data directory (blocking: a command, or a worker thread)."""
    now = time.time() if now is None else now
    purged = Purged()
    if retention.transcripts_days is not None:
        _transcripts(data_dir, now - retention.transcripts_days * 86400, purged)
    if retention.outbox_days is not None:
        before = now - retention.outbox_days * 86400
        _outbox_messages(data_dir, before, purged)
        _published_events(data_dir, before, purged)
    if retention.signals_days is not None:
        _signals(data_dir, now - retention.signals_days * 86400, purged)
    return purged


def purge_everywhere(
    data_dir: Path, database_url: str | None, retention: Retention, now: float | None = None
) -> Purged:
    """``purge`` of the data directory, and of the PostgreSQL database when ``database_url`` names one."""
    import asyncio

    from orchestrator.retention_pg import purge_postgres
    from shared.database import DatabaseURL

    now = time.time() if now is None else now
    purged = purge(data_dir, retention, now)
    db = DatabaseURL.parse(database_url, default_sqlite=data_dir / "conversations.db") if database_url else None
    if db is not None and db.is_postgres:
        asyncio.run(purge_postgres(db, retention, now, purged))
    return purged
