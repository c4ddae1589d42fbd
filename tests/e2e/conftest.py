"""The whole stack on loopback, over real HTTP, A2A and MCP, shared by the end-to-end tests.

Each test uses its own conversations and its own reference customers, so they can share one
running stack; tests that stop and restart services start their own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from orchestrator.launcher import Stack
from shared.settings import Settings, Topology

CUSTOMERS = 240


@dataclass
class RunningStack:
    stack: Stack
    topology: Topology
    data_dir: Path
    claimed: set[str] = field(default_factory=set)

    def customers(self, n: int = 1, **flags: object) -> list[dict]:
        return sample_customers(self.data_dir, n, **flags)

    def claim_customer(self, **flags: object) -> dict:
        """A customer with ``flags`` that no other test of this stack has claimed.

        Taken from the end of the reference list, so it does not collide with the tests that pick
        customers by their position from the start; the pool shrinks as refunds are made.
        """
        for customer in reversed(sample_customers(self.data_dir, CUSTOMERS, **flags)):
            if customer["customer_id"] not in self.claimed:
                self.claimed.add(customer["customer_id"])
                return customer
        raise AssertionError(f"no unclaimed reference customer left with {flags}")

    def latest_code(self, customer_id: str) -> str:
        messages = read_outbox(self.data_dir, customer_id=customer_id, limit=1)
        assert messages, f"no one-time code was sent to {customer_id}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert match, messages[-1]
        return match.group(1)


def stack_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, customers=CUSTOMERS, host="127.0.0.1")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp("switchboard-data")
    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
    topology = await stack.start()
    try:
        yield RunningStack(stack, topology, data_dir)
    finally:
        await stack.stop()


class Chat:
    """A customer talking to the orchestrator's JSON API, as every front-end does."""

    def __init__(self, http: httpx.AsyncClient, running: RunningStack) -> None:
        self.http = http
        self.running = running
        self.conversation_id = ""
        self.token = ""
        self.outcomes: list[dict] = []

    async def start(self, channel: str = "chat") -> Chat:
        response = await self.http.post("/api/conversations", json={"channel": channel})
        assert response.status_code == 201, response.text
        body = response.json()
        self.conversation_id, self.token = body["conversation_id"], body["token"]
        return self

    async def say(self, text: str, *, channel: str = "chat", expect: int = 200) -> dict:
        response = await self.http.post(
            f"/api/conversations/{self.conversation_id}/messages",
            json={"text": text, "channel": channel},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == expect, response.text
        body = response.json()
        if expect == 200:
            self.outcomes.append(body)
        return body

    async def state(self) -> dict:
        response = await self.http.get(
            f"/api/conversations/{self.conversation_id}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def verify(self, customer: dict, opening: str) -> dict:
        """Open with a request that needs identity, then prove who we are with the one-time code."""
        first = await self.say(opening)
        assert first["agent"] == "identity", first
        second = await self.say(f"it's {customer['email']}")
        assert second["agent"] == "identity" and second["status"] == "input-required", second
        code = self.running.latest_code(customer["customer_id"])
        return await self.say(code)


@pytest_asyncio.fixture(loop_scope="session")
async def chat(running: RunningStack) -> AsyncIterator[Chat]:
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        yield await Chat(http, running).start()
