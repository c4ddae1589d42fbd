"""Network-signal ingestion: ``POST /api/signals`` with a CAMARA CloudEvent notification.

The sender signs the exact request body: ``X-Switchboard-Signature: sha256=<hex HMAC-SHA256
of the body with the shared secret>``. A signal is refused, with a clear error, when the
signature is missing or wrong (401), the body is not a CAMARA notification (400), its type is
not one we act on (422) or its id was accepted before (409, a replay). Every outcome is written
to ``signals.db`` together with the event that reports it (transactional outbox): an accepted
signal becomes a ``network.*`` event, a refusal a ``signals.refused`` event, and the gateway
records both in the hash-chained audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

import aiosqlite

from orchestrator.signals.camara import NetworkSignal, parse
from orchestrator.signals.errors import BadSignature, MalformedSignal, ReplayedSignal
from shared import outbox
from shared.errors import PayloadTooLarge, SwitchboardError
from shared.events import SIGNAL_REFUSED, EventBus, new_event
from shared.sqlite import connect

SIGNATURE_HEADER = "x-switchboard-signature"
SOURCE = "/orchestrator/signals"
MAX_BODY_BYTES = 32 * 1024
SECRET_FILE = "signal-secret"

SCHEMA = """
CREATE TABLE IF NOT EXISTS signal_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    signal_id TEXT,
    camara_type TEXT,
    msisdn TEXT,
    outcome TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    body_sha256 TEXT NOT NULL,
    remote TEXT,
    event_id TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS signal_accepted_once ON signal_log(signal_id) WHERE outcome = 'accepted';
"""


def signature(secret: bytes, body: bytes) -> str:
    """The header value a sender puts in ``X-Switchboard-Signature`` for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def load_or_create_secret(data_dir: Path) -> str:
    """The embedded default's signing secret, created once (0600) under the data directory."""
    path = Path(data_dir) / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(secret)
    tmp.chmod(0o600)
    tmp.replace(path)
    return secret


class SignalDesk:
    """Checks, records and publishes network signals; one per orchestrator process."""

    def __init__(self, conn: aiosqlite.Connection, secret: bytes, bus: EventBus) -> None:
        self._conn = conn
        self._secret = secret
        self._lock = asyncio.Lock()
        self._store: outbox.SqliteOutbox | None = None
        self._relay: outbox.OutboxRelay | None = None
        self._task: asyncio.Task[None] | None = None
        self.bus = bus

    @classmethod
    async def open(cls, path: Path, secret: str, bus: EventBus) -> SignalDesk:
        if not secret:
            raise ValueError("the signal secret is empty")
        conn = await connect(path)
        await conn.executescript(SCHEMA + outbox.DDL)
        await conn.commit()
        desk = cls(conn, secret.encode(), bus)
        desk._store = await outbox.SqliteOutbox.open(path)
        desk._relay = outbox.OutboxRelay(desk._store, bus)
        desk._task = asyncio.create_task(desk._relay.run(), name="outbox relay signals")
        return desk

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._store is not None:
            await self._store.close()
        await self._conn.close()

    async def ingest(self, body: bytes, presented: str | None, remote: str | None) -> dict[str, Any]:
        """Accept one notification or raise the error that refuses it (after recording the refusal)."""
        digest = hashlib.sha256(body).hexdigest()
        try:
            if len(body) > MAX_BODY_BYTES:
                raise PayloadTooLarge(f"a signal is at most {MAX_BODY_BYTES} bytes")
            expected = signature(self._secret, body).encode()
            if not presented or not hmac.compare_digest(presented.strip().encode(), expected):
                raise BadSignature(
                    "the signal's signature is missing or wrong",
                    hint="send X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the exact body, shared secret>",
                )
            try:
                doc = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise MalformedSignal("the signal body is not JSON", hint="send one CloudEvent as JSON") from None
            if not isinstance(doc, dict):
                raise MalformedSignal("the signal body must be one CloudEvent object", hint="batches are not accepted")
            signal = parse(doc)
        except SwitchboardError as exc:
            await self._refuse(exc, digest, remote, None)
            raise
        return await self._accept(signal, digest, remote)

    async def _accept(self, signal: NetworkSignal, digest: str, remote: str | None) -> dict[str, Any]:
        event = new_event(signal.kind, SOURCE, signal.event_data())
        async with self._lock:
            # Replays are judged under the lock and backed by a unique index: two copies racing
            # in can never both be accepted.
            async with self._conn.execute(
                "SELECT received_at FROM signal_log WHERE signal_id = ? AND outcome = 'accepted'", (signal.signal_id,)
            ) as cur:
                seen = await cur.fetchone()
            if seen is None:
                await self._log(signal, "accepted", None, digest, remote, event.get_id())
                await outbox.enqueue(self._conn, event)
                await self._conn.commit()
        if seen is not None:
            error = ReplayedSignal(
                f"signal {signal.signal_id} was already received; it is not applied twice",
                hint="send each notification once; a new occurrence needs a new id",
            )
            await self._refuse(error, digest, remote, signal)
            raise error
        assert self._relay is not None
        self._relay.notify()
        return {"accepted": True, "signal_id": signal.signal_id, "kind": signal.kind, "event_id": event.get_id()}

    async def _refuse(
        self, error: SwitchboardError, digest: str, remote: str | None, signal: NetworkSignal | None
    ) -> None:
        event = new_event(
            SIGNAL_REFUSED,
            SOURCE,
            {
                "code": error.code,
                "reason": error.message,
                "signal_id": signal.signal_id if signal else None,
                "camara_type": signal.camara_type if signal else None,
                "body_sha256": digest,
                "remote": remote,
            },
        )
        async with self._lock:
            await self._log(signal, "refused", error, digest, remote, event.get_id())
            await outbox.enqueue(self._conn, event)
            await self._conn.commit()
        assert self._relay is not None
        self._relay.notify()

    async def _log(
        self,
        signal: NetworkSignal | None,
        outcome: str,
        error: SwitchboardError | None,
        digest: str,
        remote: str | None,
        event_id: str,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO signal_log (received_at, signal_id, camara_type, msisdn, outcome, code, reason,"
            " body_sha256, remote, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                signal.signal_id if signal else None,
                signal.camara_type if signal else None,
                signal.msisdn if signal else None,
                outcome,
                error.code if error else None,
                error.message if error else None,
                digest,
                remote,
                event_id,
            ),
        )

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        async with self._conn.execute("SELECT * FROM signal_log ORDER BY seq DESC LIMIT ?", (limit,)) as cur:
            return [dict(row) for row in await cur.fetchall()]
