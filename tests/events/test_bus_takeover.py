"""Replicas come and go on the real NATS JetStream: ones starting together share a consumer, and
one killed without closing anything never stands in the way of the replica that replaces it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js.errors import NotFoundError

from shared.bus import NatsBus
from tests.events.test_bus_replicas import NATS_URL, Seen, _events, _nats_or_skip, _until

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest.fixture
async def deployment() -> AsyncIterator[str]:
    """A deployment of this test's own on the shared server; its stream (and consumers) go after."""
    await _nats_or_skip()
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(f"SWITCHBOARD_{name.upper()}_EVENTS")
    await nc.close()


async def _bus(deployment: str, replica: str | None = None) -> NatsBus:
    bus = await NatsBus.connect(NATS_URL, replica=replica, deployment=deployment, retention_seconds=600)
    assert bus.connected
    return bus


async def test_replicas_starting_together_share_one_consumer(deployment: str) -> None:
    buses = await _bus(deployment, "one"), await _bus(deployment, "two")
    try:
        # Both find no consumer and both create it; whichever ends up alone must still be handed
        # the events (a replica bound where nothing arrives would silently drop its share).
        for durable, survivor in (("work-a", 0), ("work-b", 1)):
            tag, progress = uuid.uuid4().hex, asyncio.Event()
            seen = [Seen(tag, progress), Seen(tag, progress)]
            subs = await asyncio.gather(*(bus.subscribe(durable, s) for bus, s in zip(buses, seen, strict=True)))
            assert {sub.name for sub in subs} == {durable}
            await subs[1 - survivor].stop()
            sent = _events(tag, 3)
            for event in sent:
                await buses[0].publish(event)
            await _until(progress, lambda: len(seen[survivor].ids) >= 3)  # noqa: B023  (awaited in the loop)
            assert seen[survivor].ids == [e.get_id() for e in sent]
    finally:
        for bus in buses:
            await bus.close()


async def test_a_replica_killed_with_sigkill_is_replaced_by_a_new_one(deployment: str) -> None:
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.events.bus_child", NATS_URL, deployment, "work", "mirror"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        shared_name, mirror_name = line.decode().split()
    finally:
        child.send_signal(signal.SIGKILL)  # no close, no unsubscribe: the server still has it all
        await asyncio.wait_for(child.wait(), 30)
    assert shared_name == "work" and mirror_name.startswith("mirror-")

    bus = await _bus(deployment)
    try:
        assert bus._js is not None
        dead = await bus._js.consumer_info(bus.stream, mirror_name)
        assert dead.config.inactive_threshold, "a dead replica's own consumer must expire on the server"
        tag, progress = uuid.uuid4().hex, asyncio.Event()
        waiting = _events(tag, 2)  # published while no replica runs: the shared consumer keeps them
        for event in waiting:
            await bus.publish(event)
        work, mirror = Seen(tag, progress), Seen(tag, progress)
        sub_work = await bus.subscribe("work", work)
        sub_mirror = await bus.subscribe("mirror", mirror, fan_out=True)
        assert sub_mirror.name != mirror_name
        fresh = _events(tag, 2)
        for event in fresh:
            await bus.publish(event)
        await _until(progress, lambda: len(work.ids) >= 4 and len(mirror.ids) >= 2)
        assert sorted(work.ids) == sorted(e.get_id() for e in waiting + fresh)
        assert mirror.ids == [e.get_id() for e in fresh]  # its own consumer starts from now
        assert sub_work.name == "work"
    finally:
        await bus.close()


async def test_a_replica_that_stops_removes_its_own_consumer(deployment: str) -> None:
    bus = await _bus(deployment)
    sub = await bus.subscribe("mirror", Seen("unused", asyncio.Event()), fan_out=True)
    assert bus._js is not None
    await bus._js.consumer_info(bus.stream, sub.name)
    await sub.stop()  # a service stops its subscriber before its process closes the bus
    await bus._js.consumer_info(bus.stream, sub.name)  # still there: a stop alone keeps the place
    await bus.close()
    other = await _bus(deployment)
    try:
        assert other._js is not None
        with pytest.raises(NotFoundError):
            await other._js.consumer_info(other.stream, sub.name)
    finally:
        await other.close()
