"""Replicas share nothing but PostgreSQL: a conversation moves between them and survives crashes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest

from gateway.enforcement import DURABLE as SIGNALS
from mcp_servers._sql import system_database
from orchestrator.cases.profile_follow import DURABLE as PROFILES
from orchestrator.cases.profile_follow import FOLLOWED
from orchestrator.signals.reactions import DURABLE as REACTIONS
from shared.bus import NatsBus
from shared.bus.replica import DEFAULT_RETENTION_SECONDS
from shared.database import DatabaseURL
from shared.pools import Process, deployment_connections
from shared.settings import SYSTEMS, Settings
from tests.scaleout.conftest import ScaleOut
from tests.storage.pg import BASE_URL, terminate_backends

# A dozen cold processes and a NATS server of its own: about a minute, so make test starts it early.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow_file]


class Customer:
    """One customer whose turns go to whichever orchestrator replica the test says."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.conversation_id = ""
        self.token = ""

    async def start(self, base: str) -> None:
        response = await self.http.post(f"{base}/api/conversations", json={"channel": "chat"})
        assert response.status_code == 201, response.text
        self.conversation_id, self.token = response.json()["conversation_id"], response.json()["token"]

    async def say(self, base: str, text: str) -> dict:
        response = await self.http.post(
            f"{base}/api/conversations/{self.conversation_id}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def transcript(self, base: str) -> list[dict]:
        response = await self.http.get(
            f"{base}/api/conversations/{self.conversation_id}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()["transcript"]


async def test_a_conversation_moves_between_replicas_and_survives_crashes(scaleout: ScaleOut) -> None:
    customer = scaleout.customers(40)[25]
    first, second = scaleout.orchestrators
    async with httpx.AsyncClient(timeout=60) as http:
        chat = Customer(http)
        await chat.start(first.url)
        opening = await chat.say(first.url, "hi, can you explain my latest bill?")
        assert opening["agent"] == "identity", opening
        asked = await chat.say(second.url, f"it's {customer['email']}")  # the other replica carries on
        assert asked["agent"] == "identity" and asked["status"] == "input-required", asked

        first.kill()  # the replica that started the conversation crashes
        verified = await chat.say(second.url, scaleout.latest_code(customer["customer_id"]))
        assert verified["verified"] is True and verified["agent"] == "billing", verified
        assert customer["display_name"].split()[0] in verified["reply"]

        # The billing replica the orchestrator connected to last crashes; the survivor answers.
        serving = scaleout.balancer.last
        assert serving is not None
        survivor = 1 - serving
        served_before = scaleout.balancer.requests[survivor]
        scaleout.billing[serving].kill()
        for _ in range(2):
            again = await chat.say(second.url, "can you explain my latest bill again?")
            assert again["agent"] == "billing" and again["verified"] is True, again
        assert scaleout.balancer.requests[survivor] > served_before

        transcript = await chat.transcript(second.url)
        customer_lines = [e["text"] for e in transcript if e["role"] == "customer"]
        assert customer_lines[:2] == ["hi, can you explain my latest bill?", f"it's {customer['email']}"]
        assert len(customer_lines) == 5 and [e["seq"] for e in transcript] == list(range(1, len(transcript) + 1))


async def test_postgres_dropping_every_connection_mid_conversation_loses_nothing(scaleout: ScaleOut) -> None:
    customer = scaleout.customers(40)[27]
    alive = next(o for o in scaleout.orchestrators if o.popen.poll() is None)
    async with httpx.AsyncClient(timeout=60) as http:
        chat = Customer(http)
        await chat.start(alive.url)
        await chat.say(alive.url, "hi, can you explain my latest bill?")
        await chat.say(alive.url, f"it's {customer['email']}")

        assert await terminate_backends(scaleout.database_url) >= 1  # as clients see a server restart

        verified = await chat.say(alive.url, scaleout.latest_code(customer["customer_id"]))
        assert verified["verified"] is True and verified["agent"] == "billing", verified
        transcript = await chat.transcript(alive.url)
        said = [e["text"] for e in transcript if e["role"] == "customer"]
        assert said == ["hi, can you explain my latest bill?", f"it's {customer['email']}", said[2]]
        assert [e["seq"] for e in transcript] == list(range(1, len(transcript) + 1))


async def _refunds(scaleout: ScaleOut, account_number: str) -> list[str]:
    conn = await asyncpg.connect(BASE_URL)
    try:
        schema = system_database(DatabaseURL.parse(scaleout.database_url, default_sqlite=Path("x")), "payments").schema
        rows = await conn.fetch(f'SELECT refund_id FROM "{schema}".refunds WHERE account_number = $1', account_number)
    finally:
        await conn.close()
    return [r[0] for r in rows]


async def test_two_payments_replicas_on_postgres_refund_once_and_cover_for_each_other(scaleout: ScaleOut) -> None:
    customer = next(c for c in scaleout.customers(80, has_duplicate_charge=True) if c["duplicate_charge_pence"] <= 4000)
    alive = next(o for o in scaleout.orchestrators if o.popen.poll() is None)
    async with httpx.AsyncClient(timeout=60) as http:
        chat = Customer(http)
        await chat.start(alive.url)
        assert (await chat.say(alive.url, "I was charged twice, please refund the duplicate"))["agent"] == "identity"
        await chat.say(alive.url, f"it's {customer['email']}")
        proposal = await chat.say(alive.url, scaleout.latest_code(customer["customer_id"]))
        assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
        done = await chat.say(alive.url, "yes please")
        assert done["status"] == "completed" and done["data"].get("refund_id"), done
        assert await _refunds(scaleout, customer["account_number"]) == [done["data"]["refund_id"]]

        # The payments replica that served last crashes; the other one, on the same data, answers.
        serving = scaleout.payments_balancer.last
        assert serving is not None
        survivor = 1 - serving
        served_before = scaleout.payments_balancer.requests[survivor]
        scaleout.payments[serving].kill()
        again = await chat.say(alive.url, "I was charged twice, please refund the duplicate")
        assert again["agent"] == "payment", again
        assert scaleout.payments_balancer.requests[survivor] > served_before
        assert await _refunds(scaleout, customer["account_number"]) == [done["data"]["refund_id"]]


async def test_the_processes_hold_no_more_connections_than_the_sizing_formula(scaleout: ScaleOut) -> None:
    # After the conversations, refunds and reconnects above: every pool has been used.
    schema = scaleout.database_url.rsplit("schema=", 1)[1]
    conn = await asyncpg.connect(BASE_URL)
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1", f"switchboard/{schema}%"
        )
    finally:
        await conn.close()
    topology = [
        Process("mcp", systems=len(SYSTEMS) - 1),  # every system but payments in one process
        Process("mcp", replicas=len(scaleout.payments)),
        Process("gateway"),
        Process("agent", replicas=2 + len(scaleout.billing)),  # identity, payment, billing x2
        Process("orchestrator", replicas=len(scaleout.orchestrators)),
    ]
    assert 0 < held <= deployment_connections(topology, Settings().db_pool_size)


async def test_every_service_reads_and_writes_the_deployments_nats_stream(scaleout: ScaleOut) -> None:
    """The processes share events through NATS JetStream, on the deployment's own stream."""
    nc = await nats.connect(scaleout.bus_url)
    try:
        js = nc.jetstream()
        stream = "SWITCHBOARD_SCALEOUT_EVENTS"
        info = await js.stream_info(stream)
        assert info.config.subjects == ["switchboard.scaleout.events.>"]
        assert info.config.max_age == DEFAULT_RETENTION_SECONDS
        async with asyncio.timeout(30):  # every system's relay publishes a watermark while its outbox is empty
            while True:
                if (await js.stream_info(stream)).state.messages:
                    break
                await asyncio.sleep(0.1)  # bounded by the timeout above
        consumers = {c.name: c for c in await js.consumers_info(stream)}
    finally:
        await nc.close()
    # The profile follower's kinds share no subject: it reads one consumer per kind.
    profiles = {name for name, _ in NatsBus(scaleout.bus_url, deployment="scaleout").consumers_for(PROFILES, FOLLOWED)}
    shared = {"crm-consumer", "identity-consumer", "network-consumer", REACTIONS, *profiles}
    assert shared <= consumers.keys(), sorted(consumers)
    assert all(consumers[name].push_bound for name in shared), "a replica reads each shared consumer"
    # The one gateway process has its own consumer, named for this start of it.
    assert len([name for name in consumers if name.startswith(f"{SIGNALS}-")]) == 1, sorted(consumers)
