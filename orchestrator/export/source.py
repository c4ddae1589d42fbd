"""Reading conversations and their audit trail for export (read-only; safe while services run)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from orchestrator.conversations import ConversationState, TranscriptEntry
from shared.audit import AuditRecord
from shared.errors import InvalidRequest, NotFound


@dataclass
class ConversationRecord:
    state: ConversationState
    transcript: list[TranscriptEntry]
    audit: list[AuditRecord]


def _open(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise InvalidRequest(f"no conversations at {path}", hint="point --data-dir at a Switchboard data directory")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _audit(data_dir: Path, conversation_id: str) -> list[AuditRecord]:
    from orchestrator.governance import read_audit

    db = Path(data_dir) / "audit.db"
    return read_audit(db, conversation_id=conversation_id, limit=100_000) if db.exists() else []


def load_conversation(data_dir: Path, conversation_id: str) -> ConversationRecord:
    with closing(_open(Path(data_dir) / "conversations.db")) as db:
        row = db.execute("SELECT state FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise NotFound(
                f"no conversation {conversation_id!r}", hint="list them with `switchboard export vcon --since`"
            )
        entries = db.execute(
            "SELECT entry FROM transcript WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
        ).fetchall()
    return ConversationRecord(
        state=ConversationState.model_validate_json(row[0]),
        transcript=[TranscriptEntry.model_validate_json(e[0]) for e in entries],
        audit=_audit(data_dir, conversation_id),
    )


def conversation_ids(data_dir: Path, *, since: float | None = None, until: float | None = None) -> list[str]:
    """Conversations last updated within [since, until), oldest first."""
    with closing(_open(Path(data_dir) / "conversations.db")) as db:
        rows = db.execute(
            "SELECT id FROM conversations WHERE updated_at >= ? AND updated_at < ? ORDER BY updated_at, id",
            (since if since is not None else 0.0, until if until is not None else float("inf")),
        ).fetchall()
    return [r[0] for r in rows]


def finished_conversations(data_dir: Path, *, now: float, idle_seconds: float) -> list[tuple[str, float]]:
    """(id, updated_at) of finished conversations: closed, or idle for ``idle_seconds``."""
    with closing(_open(Path(data_dir) / "conversations.db")) as db:
        rows = db.execute(
            "SELECT id, updated_at FROM conversations WHERE status = 'closed' OR updated_at <= ?"
            " ORDER BY updated_at, id",
            (now - idle_seconds,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]
