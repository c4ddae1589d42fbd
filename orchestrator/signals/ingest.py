"""Network-signal ingestion: ``POST /api/signals`` with a CAMARA CloudEvent notification.

The sender signs the exact request body: ``X-Switchboard-Signature: sha256=<hex HMAC-SHA256
of the body with the shared secret>``. A signal is refused, with a clear error, when the
signature is missing or wrong (401), the body is not a CAMARA notification (400), its type is
not one we act on (422), its ``time`` lies outside the accepted window (422: by default more
than 5 minutes old or 1 minute ahead of our clock; ``SignalWindow``) or its id was accepted
before (409, a replay). Every outcome is written
to the signal store together with the event that reports it (transactional outbox): an accepted
signal becomes a ``network.*`` event, a refusal a ``signals.refused`` event, and the gateway
records both in the hash-chained audit log. A source that keeps sending refused signals gets
429 instead, unrecorded, once its refusal budget is spent (``limits.RefusalBudget``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orchestrator.signals.camara import NetworkSignal, parse
from orchestrator.signals.errors import (
    BadSignature,
    MalformedSignal,
    RefusalsRateLimited,
    ReplayedSignal,
    SignalOutOfWindow,
)
from orchestrator.signals.limits import RefusalBudget
from orchestrator.signals.store import LogEntry, SignalStore
from orchestrator.signals.subjects import SubjectResolver
from shared import outbox
from shared.errors import InvalidRequest, PayloadTooLarge, SwitchboardError
from shared.events import SIGNAL_REFUSED, EventBus, new_event
from shared.jsonbody import parse_json

SIGNATURE_HEADER = "x-switchboard-signature"
SOURCE = "/orchestrator/signals"
MAX_BODY_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class SignalWindow:
    """How old, or how far ahead of our clock, a signal's ``time`` may be.

    Without a bound, a correctly signed event dated 2099 would stay "fresh" for ever, and one
    dated 2001 would act on a line that long since changed. Replays inside the window are
    caught by the id (409).
    """

    max_age_seconds: float = 300.0
    max_ahead_seconds: float = 60.0

    def check(self, occurred_at: str, now: float) -> None:
        occurred = datetime.strptime(occurred_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
        if occurred < now - self.max_age_seconds:
            raise SignalOutOfWindow(
                f"the signal is dated {occurred_at}, more than {self.max_age_seconds:g} s ago; it is not applied",
                hint="send notifications as they happen, with the time they happened",
            )
        if occurred > now + self.max_ahead_seconds:
            raise SignalOutOfWindow(
                f"the signal is dated {occurred_at}, more than {self.max_ahead_seconds:g} s ahead of our clock; "
                "it is not applied",
                hint="check the sender's clock (NTP)",
            )


def signature(secret: bytes, body: bytes) -> str:
    """The header value a sender puts in ``X-Switchboard-Signature`` for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class SignalDesk:
    """Checks, records and publishes network signals; one per orchestrator process."""

    def __init__(
        self,
        store: SignalStore,
        secret: bytes,
        bus: EventBus | None,
        budget: RefusalBudget | None = None,
        window: SignalWindow | None = None,
        clock: Callable[[], float] = time.time,
        subjects: SubjectResolver | None = None,
    ) -> None:
        """Without ``bus`` the desk only records: another process relays the store's outbox."""
        self.store = store
        self._subjects = subjects
        self._window = window or SignalWindow()
        self._clock = clock
        self._secret = secret
        self._budget = budget or RefusalBudget()
        self._relay = outbox.OutboxRelay(store.outbox, bus) if bus is not None else None
        self._task: asyncio.Task[None] | None = None
        self.bus = bus

    @classmethod
    async def open(
        cls,
        store: SignalStore,
        secret: str,
        bus: EventBus | None,
        budget: RefusalBudget | None = None,
        window: SignalWindow | None = None,
        subjects: SubjectResolver | None = None,
    ) -> SignalDesk:
        if not secret:
            raise ValueError("the signal secret is empty")
        desk = cls(store, secret.encode(), bus, budget, window, subjects=subjects)
        if desk._relay is not None:
            desk._task = asyncio.create_task(desk._relay.run(), name="outbox relay signals")
        return desk

    async def close(self) -> None:
        """Stop relaying; the store is its owner's to close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

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
                doc = parse_json(body)
            except InvalidRequest as exc:
                raise MalformedSignal(
                    f"the signal body is not usable JSON ({exc.message})", hint="send one CloudEvent as JSON"
                ) from None
            if not isinstance(doc, dict):
                raise MalformedSignal("the signal body must be one CloudEvent object", hint="batches are not accepted")
            signal = parse(doc)
        except SwitchboardError as exc:
            await self._refuse(exc, digest, remote, None)
            raise
        try:
            self._window.check(signal.occurred_at, self._clock())
        except SignalOutOfWindow as exc:
            await self._refuse(exc, digest, remote, signal)
            raise
        return await self._accept(signal, digest, remote)

    async def _accept(self, signal: NetworkSignal, digest: str, remote: str | None) -> dict[str, Any]:
        # The customer the number belongs to is the event's subject: projections key on it.
        subject = await self._subjects(signal.msisdn, signal.signal_id) if self._subjects else None
        event = new_event(signal.kind, SOURCE, signal.event_data(), subject=subject)
        entry = LogEntry(
            outcome="accepted",
            body_sha256=digest,
            event_id=event.get_id(),
            remote=remote,
            signal_id=signal.signal_id,
            camara_type=signal.camara_type,
            msisdn=signal.msisdn,
        )
        if not await self.store.accept(entry, event):
            error = ReplayedSignal(
                f"signal {signal.signal_id} was already received; it is not applied twice",
                hint="send each notification once; a new occurrence needs a new id",
            )
            await self._refuse(error, digest, remote, signal)
            raise error
        if self._relay is not None:
            self._relay.notify()
        return {"accepted": True, "signal_id": signal.signal_id, "kind": signal.kind, "event_id": event.get_id()}

    async def _refuse(
        self, error: SwitchboardError, digest: str, remote: str | None, signal: NetworkSignal | None
    ) -> None:
        """Record a refusal, or raise 429 unrecorded when its source has no refusal budget left."""
        allowed, wait, tripped = self._budget.spend(remote)
        if not allowed:
            limited = RefusalsRateLimited(
                f"too many refused signals from {remote or 'this source'}; refusals are not recorded for a while",
                retry_after=wait,
                hint="fix the sender (signature, format, fresh ids) and retry after the Retry-After seconds",
            )
            if tripped:  # once per flood, so the audit trail shows it began
                await self._record_refusal(limited, digest, remote, signal)
            raise limited from error
        await self._record_refusal(error, digest, remote, signal)

    async def _record_refusal(
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
        entry = LogEntry(
            outcome="refused",
            body_sha256=digest,
            event_id=event.get_id(),
            remote=remote,
            signal_id=signal.signal_id if signal else None,
            camara_type=signal.camara_type if signal else None,
            msisdn=signal.msisdn if signal else None,
            code=error.code,
            reason=error.message,
        )
        await self.store.refuse(entry, event)
        if self._relay is not None:
            self._relay.notify()

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        return await self.store.log(limit)
