"""The embedded default's bus: every subscriber gets every event, in order, in this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cloudevents.core.v1.event import CloudEvent

from shared.events import Handler

log = logging.getLogger("switchboard.bus")


class InProcessBus:
    """Fan-out through one queue per durable subscriber; a failing handler is retried with backoff."""

    def __init__(self, *, retry_delay: float = 0.05, max_delay: float = 2.0) -> None:
        self._queues: dict[str, asyncio.Queue[CloudEvent]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._retry_delay = retry_delay
        self._max_delay = max_delay

    async def publish(self, event: CloudEvent) -> None:
        for queue in self._queues.values():
            queue.put_nowait(event)

    async def subscribe(self, durable: str, handler: Handler) -> None:
        if durable in self._queues:
            raise ValueError(f"a subscriber named {durable!r} already exists")
        queue: asyncio.Queue[CloudEvent] = asyncio.Queue()
        self._queues[durable] = queue
        self._workers.append(asyncio.create_task(self._deliver(durable, queue, handler), name=f"bus {durable}"))

    async def _deliver(self, durable: str, queue: asyncio.Queue[CloudEvent], handler: Handler) -> None:
        while True:
            event = await queue.get()
            delay = self._retry_delay
            while True:
                try:
                    await handler(event)
                    break
                except Exception:
                    log.exception("subscriber %s failed on event %s; retrying", durable, event.get_id())
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._max_delay)

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
