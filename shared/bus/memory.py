"""The embedded default's bus: every durable subscriber gets every event, in order, in this process.

Like a JetStream durable consumer, a durable name keeps its place: events published while its
subscriber is stopped (a service restarted in the embedded stack) wait in its queue and are
delivered when a subscriber with the same name comes back. Nothing survives the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Collection

from cloudevents.core.v1.event import CloudEvent

from shared.bus.replica import consumer_name, default_replica
from shared.events import Handler, kind_of

log = logging.getLogger("switchboard.bus")


class _Durable:
    def __init__(self) -> None:
        self.queue: deque[CloudEvent] = deque()
        self.ready = asyncio.Event()
        self.worker: asyncio.Task[None] | None = None
        self.kinds: frozenset[str] | None = None
        """What the subscriber reads (None: everything); other events are never queued for it."""


class InProcessSubscription:
    def __init__(self, durable: _Durable) -> None:
        self._durable = durable

    async def stop(self) -> None:
        """Stop delivering; undelivered events stay queued for the next subscriber of this name."""
        worker, self._durable.worker = self._durable.worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker


class InProcessBus:
    """Fan-out through one queue per durable name; a failing handler is retried with backoff."""

    def __init__(self, *, retry_delay: float = 0.05, max_delay: float = 2.0, replica: str | None = None) -> None:
        self.replica = replica or default_replica()
        self._durables: dict[str, _Durable] = {}
        self._retry_delay = retry_delay
        self._max_delay = max_delay

    async def publish(self, event: CloudEvent) -> None:
        kind = kind_of(event)
        for durable in self._durables.values():
            if durable.kinds is None or kind in durable.kinds:
                durable.queue.append(event)
                durable.ready.set()

    async def subscribe(
        self,
        durable: str,
        handler: Handler,
        *,
        fan_out: bool = False,
        since: float | None = None,
        kinds: Collection[str] | None = None,
    ) -> InProcessSubscription:
        # ``since`` has nothing to skip here: nothing outlives the process, so no history exists.
        # One process is one replica: a fan-out name only differs so it reads like NATS's.
        durable = consumer_name(durable, self.replica if fan_out else None)
        state = self._durables.setdefault(durable, _Durable())
        if state.worker is not None:
            raise ValueError(f"a subscriber named {durable!r} is already running")
        state.kinds = None if kinds is None else frozenset(kinds)
        state.worker = asyncio.create_task(self._deliver(durable, state, handler), name=f"bus {durable}")
        return InProcessSubscription(state)

    async def _deliver(self, name: str, state: _Durable, handler: Handler) -> None:
        while True:
            while not state.queue:
                state.ready.clear()
                await state.ready.wait()
            # The event leaves the queue only after its handler succeeded: a subscriber stopped
            # mid-delivery gets it again (at-least-once; consumers dedupe on the id).
            event = state.queue[0]
            delay = self._retry_delay
            while True:
                try:
                    await handler(event)
                    break
                except Exception:
                    log.exception("subscriber %s failed on event %s; retrying", name, event.get_id())
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._max_delay)
            state.queue.popleft()

    def backlog(self, durable: str) -> int:
        state = self._durables.get(durable)
        return len(state.queue) if state else 0

    async def close(self) -> None:
        for state in self._durables.values():
            await InProcessSubscription(state).stop()
