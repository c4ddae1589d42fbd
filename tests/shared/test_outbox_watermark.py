"""A relay vouches for its system's feed only when nothing waits anywhere: the watermark readers trust."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from cloudevents.core.v1.event import CloudEvent

from shared.bus import InProcessBus
from shared.events import FEED_WATERMARK, data_of, kind_of
from shared.outbox import OutboxRelay


class Store:
    """An outbox whose unpublished rows are all claimed by another replica (``pending`` skips them)."""

    def __init__(self, claimed_elsewhere: int) -> None:
        self.claimed_elsewhere = claimed_elsewhere

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        return []

    async def mark_published(self, seqs: Sequence[int]) -> None:
        raise AssertionError("nothing to mark")

    async def waiting(self) -> int:
        return self.claimed_elsewhere


async def test_rows_claimed_by_another_relay_keep_the_watermark_back() -> None:
    store = Store(claimed_elsewhere=1)
    relay = OutboxRelay(store, InProcessBus(), system="billing")
    assert await relay.relay_once() == 0
    assert relay.drained_at is None  # the other replica has not published yet: no promise made
    store.claimed_elsewhere = 0
    await relay.relay_once()
    assert relay.drained_at is not None


async def test_a_drained_relay_publishes_its_watermark_on_the_bus() -> None:
    bus = InProcessBus()
    seen: asyncio.Queue[CloudEvent] = asyncio.Queue()

    async def collect(event: CloudEvent) -> None:
        await seen.put(event)

    await bus.subscribe("reader", collect)
    relay = OutboxRelay(Store(claimed_elsewhere=0), bus, system="consent", watermark_seconds=0.05)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(10):
            event = await seen.get()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bus.close()
    assert kind_of(event) == FEED_WATERMARK and event.get_source() == "/systems/consent"
    data = data_of(event)
    assert data["system"] == "consent" and relay.drained_at is not None
    assert 0 < data["drained_at"] <= relay.drained_at  # the relay only ever moves its mark forward


class IdleStore(Store):
    """An outbox with nothing waiting anywhere, that counts the claims made on it."""

    def __init__(self) -> None:
        super().__init__(claimed_elsewhere=0)
        self.claims = 0

    async def pending(self, limit: int = 100) -> list[tuple[int, CloudEvent]]:
        self.claims += 1
        return []


async def test_an_idle_sweep_vouches_for_the_feed_without_claiming_rows() -> None:
    # A claim is a transaction on PostgreSQL: an idle relay's sweeps make one count instead.
    store = IdleStore()
    relay = OutboxRelay(store, InProcessBus(), system="billing")
    for _ in range(3):
        assert await relay.relay_once() == 0
    assert relay.drained_at is not None and store.claims == 0
