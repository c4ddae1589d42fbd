"""The continuous feed: every finished conversation, once, to an NDJSON file or a webhook.

"Finished" means: status ``closed``, or no new turn for ``idle_seconds`` (default 30
minutes). An escalated conversation is not finished at the handoff: the human's part of it
comes after, and belongs in the same vCon.

The cursor is a small SQLite file beside the output, listing the conversations already
delivered. A vCon is delivered first and recorded after, so a crash between the two can
repeat one delivery: the file sink then finds the vCon's stable uuid already in the file and
skips it (exactly once); a webhook receives ``Idempotency-Key: <vcon uuid>`` to dedupe on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from orchestrator.export.redaction import Redaction
from orchestrator.export.source import finished_conversations, load_conversation
from orchestrator.export.vcon_export import build_vcon
from shared.errors import ServiceUnavailable

DEFAULT_IDLE_SECONDS = 30 * 60


class Sink(Protocol):
    """Where finished conversations go. ``deliver`` returns once the vCon is durable there."""

    def delivered_uuids(self) -> set[str]: ...
    def deliver(self, vcon_uuid: str, vcon_json: str) -> None: ...


class FileSink:
    """Appends one vCon per line to an NDJSON file, fsynced per line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def delivered_uuids(self) -> set[str]:
        if not self.path.exists():
            return set()
        found = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                found.add(json.loads(line)["uuid"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line from a crash mid-write; that vCon is written again
        return found

    def deliver(self, vcon_uuid: str, vcon_json: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(vcon_json + "\n")
            out.flush()
            os.fsync(out.fileno())


class WebhookSink:
    """POSTs each vCon as JSON; any non-2xx answer stops the feed so nothing is skipped."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout)

    def delivered_uuids(self) -> set[str]:
        return set()

    def deliver(self, vcon_uuid: str, vcon_json: str) -> None:
        try:
            response = self._client.post(
                self.url,
                content=vcon_json,
                headers={"Content-Type": "application/vcon+json", "Idempotency-Key": vcon_uuid},
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the webhook {self.url} did not answer: {exc}", hint="the feed retries") from exc
        if not response.is_success:
            raise ServiceUnavailable(
                f"the webhook {self.url} answered HTTP {response.status_code}", hint="the feed retries on the next poll"
            )

    def close(self) -> None:
        self._client.close()


class Cursor:
    """Which conversations were delivered (durable across restarts)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS delivered (conversation_id TEXT PRIMARY KEY, vcon_uuid TEXT, at REAL)"
        )
        self._db.commit()

    def delivered(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT conversation_id FROM delivered")}

    def record(self, conversation_id: str, vcon_uuid: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO delivered VALUES (?, ?, ?)", (conversation_id, vcon_uuid, time.time()))
        self._db.commit()

    def close(self) -> None:
        self._db.close()


@dataclass
class Feed:
    data_dir: Path
    sink: Sink
    cursor_path: Path
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    redaction: Redaction = "none"
    database_url: str | None = None
    """Where the conversations are (``SWITCHBOARD_DATABASE_URL``); unset: ``conversations.db`` in ``data_dir``."""

    def poll(self, now: float | None = None) -> list[str]:
        """Deliver every finished, undelivered conversation; returns their ids."""
        with closing(Cursor(self.cursor_path)) as cursor:
            done = cursor.delivered()
            in_sink = self.sink.delivered_uuids()
            sent = []
            for conversation_id, _ in finished_conversations(
                self.data_dir,
                now=time.time() if now is None else now,
                idle_seconds=self.idle_seconds,
                database_url=self.database_url,
            ):
                if conversation_id in done:
                    continue
                record = load_conversation(self.data_dir, conversation_id, database_url=self.database_url)
                vcon = build_vcon(record, redaction=self.redaction)
                if vcon.uuid not in in_sink:
                    self.sink.deliver(vcon.uuid, vcon.to_json())
                cursor.record(conversation_id, vcon.uuid)
                sent.append(conversation_id)
            return sent
