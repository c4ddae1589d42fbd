"""Event bus and outbox: in-process and against a real NATS JetStream server."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudevents.core.v1.event import CloudEvent

from shared import outbox
from shared.bus import InProcessBus, NatsBus
from shared.database import DatabaseURL
from shared.errors import InvalidRequest, ServiceUnavailable
from shared.events import decode, encode, new_event
from shared.migrations import upgrade
from shared.serving import bind
from shared.sqlite import SqliteThread
from tests.services import service_missing

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def test_events_round_trip_and_bad_input_is_refused() -> None:
    event = new_event("billing.plan-changed", "/systems/billing", {"plan_id": "NW-PLUS-60"}, subject="CUST-00001")
    back = decode(encode(event))
    assert back.get_type() == "io.switchboard.billing.plan-changed"
    assert back.get_subject() == "CUST-00001" and back.get_data() == {"plan_id": "NW-PLUS-60"}
    with pytest.raises(InvalidRequest):
        decode(b'{"no": "cloudevent"}')


class Collector:
    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[CloudEvent] = []
        self.fail_first = fail_first
        self.arrived = asyncio.Event()

    async def __call__(self, event: CloudEvent) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("consumer not ready")
        self.events.append(event)
        self.arrived.set()

    async def wait_for(self, n: int) -> None:
        async with asyncio.timeout(10):
            while len(self.events) < n:
                self.arrived.clear()
                await self.arrived.wait()


async def test_in_process_bus_fans_out_and_retries_a_failing_consumer() -> None:
    bus = InProcessBus(retry_delay=0.001)
    steady, flaky = Collector(), Collector(fail_first=2)
    await bus.subscribe("projection", steady)
    await bus.subscribe("policy", flaky)
    for i in range(3):
        await bus.publish(new_event("test.ping", "/test", {"i": i}))
    await steady.wait_for(3)
    await flaky.wait_for(3)
    assert [e.get_data()["i"] for e in flaky.events] == [0, 1, 2]
    await bus.close()


async def test_in_process_subscriber_of_some_kinds_gets_only_those() -> None:
    bus = InProcessBus()
    signals, everything = Collector(), Collector()
    await bus.subscribe("signals", signals, kinds={"network.sim-swapped"})
    await bus.subscribe("all", everything)
    for kind in ("feed.watermark", "network.sim-swapped", "billing.plan-changed"):
        await bus.publish(new_event(kind, "/test", {}))
    await everything.wait_for(3)
    await signals.wait_for(1)
    assert [e.get_type() for e in signals.events] == ["io.switchboard.network.sim-swapped"]
    assert bus.backlog("signals") == 0  # the others were never queued for it
    await bus.close()


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A NATS JetStream server of this test's own, so it can be stopped and started."""
    if not Path(NATS_SERVER).exists():
        service_missing("nats-server is not installed (.ci/run installs it)")
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    yield f"nats://127.0.0.1:{port}", tmp_path / "js"


def _start_nats(url: str, store: Path) -> subprocess.Popen[bytes]:
    port = url.rsplit(":", 1)[1]
    proc = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", port, "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc


async def _connect_when_up(url: str) -> NatsBus:
    bus = await NatsBus.connect(url, ack_wait_seconds=1.0, connect_timeout=0.5, reconnect_seconds=0.1)
    await bus.wait_connected(10)
    return bus


async def test_nats_bus_delivers_durably_redelivers_and_dedupes(nats_url: tuple[str, Path]) -> None:
    url, store = nats_url
    server = _start_nats(url, store)
    try:
        bus = await _connect_when_up(url)
        consumer = Collector(fail_first=1)
        durable = f"test-{uuid.uuid4().hex[:8]}"
        await bus.subscribe(durable, consumer)
        event = new_event("payments.refund-issued", "/systems/payments", {"refund_id": "RF-1"}, subject="CUST-1")
        await bus.publish(event)
        await bus.publish(event)  # a relay retry: same id, stored once
        await bus.publish(new_event("payments.refund-issued", "/systems/payments", {"refund_id": "RF-2"}))
        await consumer.wait_for(2)
        # A redelivered event may arrive after later ones: consumers must not rely on order under failure.
        assert sorted(e.get_data()["refund_id"] for e in consumer.events) == ["RF-1", "RF-2"]
        await bus.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_outbox_keeps_events_while_nats_is_down_and_relays_them_when_back(
    nats_url: tuple[str, Path], tmp_path: Path
) -> None:
    url, store = nats_url
    path = tmp_path / "system.db"
    upgrade(DatabaseURL("sqlite", path=path), "billing")  # a system's tables, its outbox among them
    conn = await SqliteThread.open(path, name="test-system")
    await conn.call(lambda db: db.execute("CREATE TABLE plans_seen (msisdn TEXT PRIMARY KEY, plan_id TEXT)"))

    def change(db: sqlite3.Connection) -> None:  # the state change and its event commit together
        db.execute("INSERT INTO plans_seen VALUES ('+447700900001', 'NW-PLUS-60')")
        db.execute(
            outbox.INSERT, outbox.row(new_event("billing.plan-changed", "/systems/billing", {"plan_id": "NW-PLUS-60"}))
        )

    await conn.write(change)
    relayed = await outbox.SqliteOutbox.open(path)

    down = await NatsBus.connect(url, connect_timeout=0.3)  # starts anyway and keeps trying
    with pytest.raises(ServiceUnavailable, match="not connected"):
        await down.publish(new_event("billing.plan-changed", "/systems/billing", {"plan_id": "NW-PLUS-60"}))
    await down.close()
    assert len(await relayed.pending()) == 1, "the event waits while the broker is down"

    server = _start_nats(url, store)
    try:
        bus = await _connect_when_up(url)
        consumer = Collector()
        await bus.subscribe(f"test-{uuid.uuid4().hex[:8]}", consumer)
        relay = outbox.OutboxRelay(relayed, bus)
        assert await relay.relay_once() == 1
        await consumer.wait_for(1)
        assert consumer.events[0].get_data() == {"plan_id": "NW-PLUS-60"}
        assert await relayed.pending() == []
        await bus.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        await relayed.close()
        await conn.close()
