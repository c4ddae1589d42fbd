"""An MCP server on PostgreSQL over real HTTP: its tools, and its outbox relayed to the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cloudevents.core.v1.event import CloudEvent
from mcp_testkit import AUTHORITY, CUSTOMERS, call_meta, mcp_client, ok, serving

from mcp_servers import build_app
from mcp_servers.dataset import prepare_dataset, sample_customers
from shared.bus import InProcessBus
from shared.errors import ConfigurationError
from shared.events import FEED_WATERMARK, REFUND_ISSUED, kind_of
from tests.storage.pg import private_schema


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    async with private_schema() as url:
        await prepare_dataset(tmp_path, url, customers=CUSTOMERS, seed=7)
        yield url


async def test_payments_on_postgres_refund_once_and_publish_the_event(pg_url: str, tmp_path: Path) -> None:
    customer = sample_customers(tmp_path, 1, database_url=pg_url, has_duplicate_charge=True)[0]
    account = customer["account_number"]
    bus = InProcessBus()
    received: asyncio.Queue = asyncio.Queue()

    async def changes(event: CloudEvent) -> None:
        if kind_of(event) != FEED_WATERMARK:  # the relay's "nothing waiting" marks are not changes
            await received.put(event)

    subscription = await bus.subscribe("test", changes)
    app = build_app("payments", data_dir=tmp_path, auth=AUTHORITY.auth("mcp:payments"), bus=bus, database_url=pg_url)
    try:
        async with serving(app) as url, mcp_client(url) as payments:
            dup = (await ok(payments, "find_duplicate_charges", {"account_number": account}))["duplicates"][0]
            args = {
                "account_number": account,
                "charge_id": dup["charge_id"],
                "amount": dup["amount"],
                "reason": "duplicate charge",
                "idempotency_key": "pg-refund-1",
            }
            results = await asyncio.gather(*(ok(payments, "issue_refund", args, call_meta()) for _ in range(3)))
            assert {r["refund_id"] for r in results} == {results[0]["refund_id"]}
            event = await asyncio.wait_for(received.get(), timeout=10)
            assert kind_of(event) == REFUND_ISSUED and event.get_data()["refund_id"] == results[0]["refund_id"]
            refunds = (await ok(payments, "list_refunds", {"account_number": account}))["refunds"]
            assert [r["refund_id"] for r in refunds] == [results[0]["refund_id"]]
        assert received.empty(), "one refund, one event"
    finally:
        await subscription.stop()
        await bus.close()
    assert not (tmp_path / "systems").exists(), "nothing was written to SQLite files"


async def test_an_unseeded_schema_fails_at_start(tmp_path: Path) -> None:
    async with private_schema() as url:
        app = build_app("billing", data_dir=tmp_path, auth=AUTHORITY.auth("mcp:billing"), database_url=url)
        with pytest.raises(ConfigurationError, match="no reference dataset"):
            async with app.router.lifespan_context(app):
                pass
