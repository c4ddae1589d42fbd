"""Replicas on the real NATS JetStream: fan-out consumers see every event, shared ones split them."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from cloudevents.core.v1.event import CloudEvent
from nats.js.api import AckPolicy, ConsumerConfig

from shared.bus import NatsBus
from shared.events import new_event
from tests.services import service_missing

NATS_URL = "nats://127.0.0.1:4222"
pytestmark = pytest.mark.asyncio(loop_scope="function")


async def _nats_or_skip() -> None:
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False)
    except Exception as exc:
        service_missing(f"NATS JetStream is not running at {NATS_URL}: {exc}")
    await nc.close()


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[NatsBus, NatsBus, list[str]]]:
    """Two buses as two replicas of one service would open them; their consumers are removed after."""
    await _nats_or_skip()
    # A deployment of its own: the server is shared, and its stream and consumers go with the test.
    deployment = f"test-{uuid.uuid4().hex[:8]}"
    one = await NatsBus.connect(NATS_URL, replica="replica-one", deployment=deployment, retention_seconds=600)
    two = await NatsBus.connect(NATS_URL, replica="replica-two", deployment=deployment, retention_seconds=600)
    assert one.connected and two.connected
    created: list[str] = []
    try:
        yield one, two, created
    finally:
        await one.close()
        await two.close()
        nc = await nats.connect(NATS_URL)
        with contextlib.suppress(Exception):  # already gone is fine
            await nc.jetstream().delete_stream(one.stream)
        await nc.close()


class Seen:
    """Collects this test's events (the stream also holds every other run's)."""

    def __init__(self, tag: str, progress: asyncio.Event) -> None:
        self.tag = tag
        self.ids: list[str] = []
        self._progress = progress

    async def __call__(self, event: CloudEvent) -> None:
        if (event.get_data() or {}).get("tag") == self.tag:
            self.ids.append(event.get_id())
            self._progress.set()


async def _until(progress: asyncio.Event, condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait (bounded) until ``condition()``, woken by each delivery."""
    async with asyncio.timeout(within):
        while True:
            progress.clear()
            if condition():
                return
            await progress.wait()


def _events(tag: str, n: int) -> list[CloudEvent]:
    return [new_event("network.sim-swapped", "/tests/bus", {"tag": tag, "n": i}) for i in range(n)]


async def test_fan_out_gives_every_replica_every_event(replicas: tuple[NatsBus, NatsBus, list[str]]) -> None:
    one, two, created = replicas
    durable, tag = f"test-fanout-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    progress = asyncio.Event()
    seen_one, seen_two = Seen(tag, progress), Seen(tag, progress)
    sub_one = await one.subscribe(durable, seen_one, fan_out=True)
    sub_two = await two.subscribe(durable, seen_two, fan_out=True)
    created += [sub_one.name, sub_two.name]
    assert (sub_one.name, sub_two.name) == (f"{durable}-replica-one", f"{durable}-replica-two")
    sent = _events(tag, 5)
    for event in sent:
        await one.publish(event)
    await _until(progress, lambda: len(seen_one.ids) == 5 and len(seen_two.ids) == 5)
    assert seen_one.ids == seen_two.ids == [e.get_id() for e in sent]

    # A replica that stops keeps its place: what was published meanwhile arrives when it is back.
    await sub_two.stop()
    late = _events(tag, 2)
    for event in late:
        await one.publish(event)
    await _until(progress, lambda: len(seen_one.ids) == 7)
    assert len(seen_two.ids) == 5
    await two.subscribe(durable, seen_two, fan_out=True)
    await _until(progress, lambda: len(seen_two.ids) == 7)
    info = await one._js.consumer_info(one.stream, sub_one.name)  # type: ignore[union-attr]
    assert info.config.deliver_group is None and info.config.inactive_threshold


async def test_shared_consumer_hands_each_event_to_exactly_one_replica(
    replicas: tuple[NatsBus, NatsBus, list[str]],
) -> None:
    one, two, created = replicas
    durable, tag = f"test-shared-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    created.append(durable)
    progress = asyncio.Event()
    seen_one, seen_two = Seen(tag, progress), Seen(tag, progress)
    await one.subscribe(durable, seen_one)
    await two.subscribe(durable, seen_two)  # today's single-name consumer refused a second replica
    sent = _events(tag, 40)
    for event in sent:
        await two.publish(event)
    await _until(progress, lambda: len(seen_one.ids) + len(seen_two.ids) >= 40)
    # Nothing arrived twice: each event went to one replica, which acknowledged it.
    assert sorted(seen_one.ids + seen_two.ids) == sorted(e.get_id() for e in sent)
    info = await one._js.consumer_info(one.stream, durable)  # type: ignore[union-attr]
    assert info.config.deliver_group == durable


async def test_a_consumer_from_before_deliver_groups_is_taken_over(
    replicas: tuple[NatsBus, NatsBus, list[str]],
) -> None:
    one, two, created = replicas
    durable, tag = f"test-old-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    created.append(durable)
    assert one._js is not None
    await one._js.add_consumer(
        one.stream,
        ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT, deliver_subject=f"old.{durable}"),
    )
    progress = asyncio.Event()
    seen_one, seen_two = Seen(tag, progress), Seen(tag, progress)
    await one.subscribe(durable, seen_one)
    await two.subscribe(durable, seen_two)
    await one.publish(_events(tag, 1)[0])
    await _until(progress, lambda: len(seen_one.ids) + len(seen_two.ids) == 1)


async def test_a_deployment_has_its_own_bounded_stream(replicas: tuple[NatsBus, NatsBus, list[str]]) -> None:
    one, _, _ = replicas
    assert one._js is not None
    info = await one._js.stream_info(one.stream)
    assert info.config.max_age == 600 and info.config.subjects == [f"{one.subjects}.>"]
    other = await NatsBus.connect(NATS_URL, replica="other", deployment=f"other-{uuid.uuid4().hex[:8]}")
    try:
        assert other.stream != one.stream
        tag, progress = uuid.uuid4().hex, asyncio.Event()
        seen = Seen(tag, progress)
        await other.subscribe("test-isolated", seen)
        await one.publish(_events(tag, 1)[0])  # another deployment's event
        mine = _events(tag, 1)[0]
        await other.publish(mine)
        await _until(progress, lambda: len(seen.ids) >= 1)
        assert seen.ids == [mine.get_id()]
    finally:
        with contextlib.suppress(Exception):
            await other._js.delete_stream(other.stream)  # type: ignore[union-attr]
        await other.close()


async def test_a_new_replica_starts_from_now_or_from_since(replicas: tuple[NatsBus, NatsBus, list[str]]) -> None:
    one, two, _ = replicas
    tag, progress = uuid.uuid4().hex, asyncio.Event()
    old = _events(tag, 3)
    for event in old:
        await one.publish(event)
    boundary = time.time()
    seen_now, seen_since = Seen(tag, progress), Seen(tag, progress)
    await one.subscribe("test-from-now", seen_now, fan_out=True)
    await two.subscribe("test-from-since", seen_since, fan_out=True, since=boundary - 3600)
    new = _events(tag, 2)
    for event in new:
        await two.publish(event)
    await _until(progress, lambda: len(seen_now.ids) >= 2 and len(seen_since.ids) >= 5)
    # From now: none of the history. From ``since``: the history after it, then the new events.
    assert seen_now.ids == [e.get_id() for e in new]
    assert seen_since.ids == [e.get_id() for e in old + new]


async def test_a_consumer_of_some_kinds_gets_only_those(replicas: tuple[NatsBus, NatsBus, list[str]]) -> None:
    one, _, created = replicas
    tag = uuid.uuid4().hex
    progress = asyncio.Event()
    signals, roaming = Seen(tag, progress), Seen(tag, progress)
    durable = f"test-kinds-{uuid.uuid4().hex[:8]}"
    created.append(durable)
    kinds = {"network.sim-swapped", "network.roaming-changed"}
    await one.subscribe(durable, signals, kinds=kinds)
    await one.subscribe(f"{durable}-roaming", roaming, kinds={"network.roaming-changed"}, fan_out=True)
    sent = [
        new_event("network.sim-swapped", "/tests/bus", {"tag": tag}),
        new_event("feed.watermark", "/tests/bus", {"tag": tag}),
        new_event("network.connectivity-changed", "/tests/bus", {"tag": tag}),
        new_event("network.roaming-changed", "/tests/bus", {"tag": tag}),
    ]
    for event in sent:
        await one.publish(event)
    # The last event is one both read: by the time it arrived, anything else would have too.
    await _until(progress, lambda: sent[3].get_id() in signals.ids and sent[3].get_id() in roaming.ids)
    assert signals.ids == [sent[0].get_id(), sent[3].get_id()]
    assert roaming.ids == [sent[3].get_id()]
    # The server does the filtering where one subject covers the kinds: watermarks never travel.
    info = await one._js.consumer_info(one.stream, durable)  # type: ignore[union-attr]
    assert info.config.filter_subject == f"{one.subjects}.network.*"


async def test_kinds_of_different_families_get_a_consumer_each(replicas: tuple[NatsBus, NatsBus, list[str]]) -> None:
    one, _, created = replicas
    tag, progress = uuid.uuid4().hex, asyncio.Event()
    profile = Seen(tag, progress)
    durable = f"test-families-{uuid.uuid4().hex[:8]}"
    kinds = {"billing.plan-changed", "identity.contact-changed"}
    consumers = one.consumers_for(durable, kinds)
    created.extend(name for name, _ in consumers)
    await one.subscribe(durable, profile, kinds=kinds)
    sent = [
        new_event("billing.plan-changed", "/tests/bus", {"tag": tag}),
        new_event("feed.watermark", "/tests/bus", {"tag": tag}),
        new_event("network.sim-swapped", "/tests/bus", {"tag": tag}),
        new_event("identity.contact-changed", "/tests/bus", {"tag": tag}),
    ]
    for event in sent:
        await one.publish(event)
    await _until(progress, lambda: len(profile.ids) >= 2)
    assert sorted(profile.ids) == sorted([sent[0].get_id(), sent[3].get_id()])
    # Filtered on the server, one exact subject each: a watermark or another family's event never travels.
    for name, subject in consumers:
        info = await one._js.consumer_info(one.stream, name)  # type: ignore[union-attr]
        assert info.config.filter_subject == subject
        assert info.delivered.consumer_seq == 1  # its one kind, nothing else


async def test_the_filter_subject_is_the_narrowest_that_covers_the_kinds() -> None:
    bus = NatsBus(NATS_URL, deployment="filters")
    root = bus.subjects
    assert bus.filter_for(None) == f"{root}.>"
    assert bus.filter_for({"feed.watermark"}) == f"{root}.feed.watermark"
    assert bus.filter_for({"network.sim-swapped", "network.roaming-changed"}) == f"{root}.network.*"
    assert bus.filter_for({"billing.plan-changed", "identity.contact-changed"}) == f"{root}.>"
