"""``switchboard customers`` shows the CRM's view, which follows billing's plan changes as they happen."""

from __future__ import annotations

import asyncio

import pytest

from mcp_servers.dataset import sample_customers
from tests.e2e.conftest import RunningStack
from tests.events.conftest import WAIT, envelope_for, tool

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_plan_change_reaches_the_crm_column_of_the_customer_list(running: RunningStack) -> None:
    secrets, url = running.stack.secrets, running.topology.gateway_mcp_url()
    assert secrets is not None
    customer = running.customers(200, crm_plan_stale=True)[-1]  # the CRM's own copy lags billing
    target = "NW-MAX-150" if customer["plan_id"] != "NW-MAX-150" else "NW-ESS-10"
    change = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "customer-list-plan-1"}
    changed = await tool(url, running.stack, "billing", "billing.change_plan", change, envelope_for(secrets, customer))

    async with asyncio.timeout(WAIT):
        while True:
            (listed,) = [
                c for c in sample_customers(running.data_dir, 1000) if c["customer_id"] == customer["customer_id"]
            ]
            if listed["crm_view_lag_seconds"] is not None and not listed["crm_plan_stale"]:
                break
            await asyncio.sleep(0.05)
    assert listed["plan_id"] == target and listed["crm_plan_name"] == listed["plan_name"], (listed, changed)
    assert 0 <= listed["crm_view_lag_seconds"] < 1.0  # staleness measured: event time to applied
