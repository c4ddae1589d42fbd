"""Abandoned skill threads are pruned on a schedule, on SQLite and on PostgreSQL, so the store stays bounded."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from a2a.client import ClientConfig, create_client
from langgraph.checkpoint.base import BaseCheckpointSaver

from agents import build_app
from agents.payment import create as payment_graphs
from agents.runtime import GatewayClient, Turn
from agents.runtime.checkpoints import SQLITE_FILE, STAMP, open_checkpointer, prune_stale
from shared.handoff import HandoffRequest
from shared.service_auth import BearerAuth, audiences
from tests.agents.conftest import AUTHORITY, SKILLS_DIR, WAIT, Specialist, free_socket, serve, verified_envelope
from tests.agents.fake_gateway import DUPLICATE, FakeGateway
from tests.service_tokens import as_orchestrator
from tests.storage.pg import private_schema


@contextlib.asynccontextmanager
async def _saver(backend: str, tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[str]]:
    if backend == "sqlite":
        async with open_checkpointer(None, tmp_path) as saver:
            yield saver
        return
    async with private_schema("prune") as url, open_checkpointer(url, tmp_path) as saver:
        yield saver


async def _stamp(saver: BaseCheckpointSaver[str], thread: str) -> float:
    found = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
    assert found is not None
    return float(found.metadata[STAMP])  # type: ignore[literal-required]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_prune_removes_threads_older_than_the_cut_off_and_keeps_newer_ones(
    backend: str, gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.duplicates = [DUPLICATE]
    graphs = payment_graphs()
    client = GatewayClient(gateway.url, auth=BearerAuth(AUTHORITY.auth("payment").tokens, audiences.GATEWAY))
    async with _saver(backend, tmp_path) as saver:
        graphs.compile(saver)
        threads = [uuid.uuid4().hex, uuid.uuid4().hex]
        try:
            for thread in threads:
                turn = Turn(
                    text="I was charged twice",
                    envelope=verified_envelope(),
                    handoff=HandoffRequest(skill="refund-charge"),
                    gateway=client,
                    agent="payment",
                )
                outcome = await graphs.run("refund-charge", turn, thread=thread, context_id="conv-1", resume=False)
                assert outcome.wait == "input"
        finally:
            await client.aclose()
        old, new = [await _stamp(saver, t) for t in threads]
        assert old < new
        # The cut-off falls between the two runs: the first thread is abandoned, the second is not.
        pruned = await prune_stale(saver, time.time() - (old + new) / 2)
        assert pruned == 1
        assert not await graphs.waiting("refund-charge", threads[0])
        assert await graphs.waiting("refund-charge", threads[1])


async def test_a_running_agent_prunes_on_its_schedule(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.duplicates = [DUPLICATE]
    async with AsyncExitStack() as stack:
        sock = free_socket()
        host, port = sock.getsockname()[:2]
        app = build_app(
            "payment",
            public_url=f"http://{host}:{port}",
            gateway_mcp_url=gateway.url,
            auth=AUTHORITY.auth("payment"),
            data_dir=tmp_path,
            skills_dir=SKILLS_DIR,
            # Every sweep finds every thread abandoned: a waiting task's thread goes at the next one.
            checkpoint_retention_seconds=0.0,
            prune_interval_seconds=0.01,
        )
        base = await serve(stack, app, sock)
        client = await create_client(
            base, client_config=ClientConfig(streaming=False), interceptors=as_orchestrator(AUTHORITY, "payment")
        )
        await stack.enter_async_context(client)
        proposal = await Specialist("payment", base, client).send("I was charged twice", "refund-charge")
        assert proposal.result.status == "input-required"
        async with asyncio.timeout(WAIT):
            while _threads(tmp_path):  # noqa: ASYNC110 - the sweep runs inside the server; nothing signals it
                await asyncio.sleep(0.01)


def _threads(data_dir: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(data_dir / SQLITE_FILE)) as db:
        return {row[0] for row in db.execute("SELECT DISTINCT thread_id FROM checkpoints")}
