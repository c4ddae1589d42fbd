"""The gateway's signal consumer on the real NATS JetStream: a new replica never writes old history
into the audit log, and replicas sharing one database apply each signal event once, quietly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from cloudevents.core.v1.event import CloudEvent
from nats.js.errors import NotFoundError

from gateway.audit_store import AuditStore, open_audit_store
from gateway.audit_store_pg import PostgresAuditStore
from gateway.catalog import Catalog
from gateway.enforcement import DURABLE, SignalEnforcer, start_enforcement
from gateway.facts import UpstreamFacts
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from shared.authcontext import AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.bus import NatsBus
from shared.events import SIGNAL_REFUSED, new_event
from tests.events.test_bus_replicas import NATS_URL, _nats_or_skip
from tests.storage.pg import private_schema

pytestmark = pytest.mark.asyncio(loop_scope="function")
WAIT = 15.0
PUBLIC = public_pem_from_private(generate_private_key_pem())


@pytest.fixture
async def deployments() -> AsyncIterator[Callable[[], str]]:
    """Fresh deployment names on the shared server; their streams (and consumers) go after."""
    await _nats_or_skip()
    made: list[str] = []

    def new() -> str:
        made.append(f"test-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield new
    nc = await nats.connect(NATS_URL)
    for name in made:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(f"SWITCHBOARD_{name.upper()}_EVENTS")
    await nc.close()


def _gateway(store: AuditStore | PostgresAuditStore) -> Gateway:
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    return Gateway(
        catalog=Catalog([], policy),
        policy=policy,
        verifier=AuthContextVerifier(PUBLIC),
        store=store,
        links={},
        facts=UpstreamFacts({}),
    )


def _refused(signal_id: str) -> CloudEvent:
    """A refused signal: the gateway records it as a denial without asking any system."""
    data = {"code": "bad_signature", "reason": "signature missing", "signal_id": signal_id, "remote": "192.0.2.7"}
    return new_event(SIGNAL_REFUSED, "/orchestrator/signals", data)


async def _recorded(gateway: Gateway, signal_id: str) -> int:
    rows = await gateway.store.fetch("SELECT count(*) FROM audit WHERE body LIKE ?", (f'%"signal:{signal_id}"%',))
    return int(rows[0][0])


async def _until_recorded(gateway: Gateway, signal_id: str) -> None:
    async with asyncio.timeout(WAIT):
        while True:
            if await _recorded(gateway, signal_id):
                return
            await asyncio.sleep(0.02)  # the consumer writes asynchronously; bounded by WAIT


async def _until_empty(bus: NatsBus) -> None:
    """Until the server has dropped every event older than the stream's age bound."""
    assert bus._js is not None
    async with asyncio.timeout(WAIT):
        while True:
            if not (await bus._js.stream_info(bus.stream)).state.messages:
                return
            await asyncio.sleep(0.1)  # the server expires on its own clock; bounded by WAIT


async def _bus(deployment: str, retention: float = 600.0, replica: str | None = None) -> NatsBus:
    bus = await NatsBus.connect(NATS_URL, deployment=deployment, retention_seconds=retention, replica=replica)
    assert bus.connected
    return bus


async def test_a_new_gateway_replica_does_not_write_old_events_into_its_audit_log(
    deployments: Callable[[], str], tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    short, long = deployments(), deployments()
    store = await open_audit_store(None, default_sqlite=tmp_path / "audit.db")
    publisher_short, publisher_long = await _bus(short, retention=1.0), await _bus(long)
    try:
        # A replica applies one signal, then stops; another is published while none runs.
        first = await _bus(short, retention=1.0)
        gateway = _gateway(store)
        await start_enforcement(first, gateway)
        await publisher_short.publish(_refused(f"{tag}-1"))
        await _until_recorded(gateway, f"{tag}-1")
        await first.close()
        await publisher_short.publish(_refused(f"{tag}-2"))
        await _until_empty(publisher_short)

        # The next replica resumes from the last applied signal, but an event past the age bound is gone.
        second = await _bus(short, retention=1.0)
        await start_enforcement(second, gateway)
        await publisher_short.publish(_refused(f"{tag}-3"))
        await _until_recorded(gateway, f"{tag}-3")
        await second.close()
        assert (await _recorded(gateway, f"{tag}-1"), await _recorded(gateway, f"{tag}-2")) == (1, 0)

        # A replica of a deployment that never applied a signal starts from now, whatever the stream holds.
        await publisher_long.publish(_refused(f"{tag}-old"))
        fresh_store = await open_audit_store(None, default_sqlite=tmp_path / "fresh.db")
        fresh = _gateway(fresh_store)
        third = await _bus(long)
        try:
            await start_enforcement(third, fresh)
            await publisher_long.publish(_refused(f"{tag}-new"))
            await _until_recorded(fresh, f"{tag}-new")
            assert await _recorded(fresh, f"{tag}-old") == 0
            assert publisher_long._js is not None
            assert (await publisher_long._js.stream_info(publisher_long.stream)).state.messages == 2
        finally:
            await third.close()
            await fresh_store.close()
    finally:
        await publisher_short.close()
        await publisher_long.close()
        await store.close()


async def test_two_gateway_replicas_on_one_database_apply_each_signal_once_without_errors(
    deployments: Callable[[], str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deployment, tag, n = deployments(), uuid.uuid4().hex[:8], 12
    async with private_schema("signals") as url:
        stores = [await open_audit_store(url, default_sqlite=tmp_path / "unused.db") for _ in range(2)]
        buses = [await _bus(deployment, replica=f"gw-{i}") for i in range(2)]
        handled = [0, 0]
        progress = asyncio.Event()

        def counting(i: int, enforcer: SignalEnforcer) -> Callable[[CloudEvent], Awaitable[None]]:
            async def handle(event: CloudEvent) -> None:
                await enforcer(event)
                handled[i] += 1
                progress.set()

            return handle

        try:
            gateways = [_gateway(store) for store in stores]
            for i, (bus, gateway) in enumerate(zip(buses, gateways, strict=True)):
                await bus.subscribe(DURABLE, counting(i, SignalEnforcer(gateway)), fan_out=True)
            caplog.set_level(logging.INFO)
            await asyncio.gather(*(buses[0].publish(_refused(f"{tag}-{k}")) for k in range(n)))
            async with asyncio.timeout(WAIT):  # both replicas race on every event
                while min(handled) < n:
                    progress.clear()
                    await progress.wait()
            counts = [await _recorded(gateways[0], f"{tag}-{k}") for k in range(n)]
            applied = await gateways[1].store.fetch("SELECT count(*) FROM applied_events")
        finally:
            for bus in buses:
                await bus.close()
            for store in stores:
                await store.close()
    assert counts == [1] * n, "every signal event has exactly one audit record"
    assert int(applied[0][0]) == n
    noise = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not noise, [r.getMessage() for r in noise]
