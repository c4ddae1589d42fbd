"""Enterprise changes reach the customer view agents read, through the outbox and the bus."""

from __future__ import annotations

import pytest

from mcp_servers.dataset import system_db_path
from tests.e2e.conftest import RunningStack
from tests.e2e.gateway_client import call_as
from tests.events.conftest import envelope_for, tool, wait_for_view
from tests.signals.conftest import rows

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_plan_ticket_and_consent_changes_show_in_the_customer_view(running: RunningStack) -> None:
    secrets, url = running.stack.secrets, running.topology.gateway_mcp_url()
    assert secrets is not None
    customer = running.customers(60, has_open_ticket=False)[41]
    env = envelope_for(secrets, customer)

    async def view() -> dict:
        return await tool(
            url, running.stack, "support", "crm.get_customer_view", {"customer_id": customer["customer_id"]}, env
        )

    before = await view()
    assert before["plan"] is None and before["open_tickets"] == []
    target = "NW-PLUS-60" if customer["plan_id"] != "NW-PLUS-60" else "NW-ESS-10"
    change = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "events-plan-1"}
    await tool(url, running.stack, "billing", "billing.change_plan", change, env)
    seen = await wait_for_view(view, lambda v: v["plan"] is not None)
    assert seen["plan"]["plan_id"] == target and seen["keys"]["msisdn"] == customer["msisdn"]
    assert seen["last_event"]["type"] == "io.switchboard.billing.plan-changed"
    assert seen["last_event"]["applied_at"] >= seen["last_event"]["time"]

    ticket = {"email": customer["email"], "category": "network", "summary": "no signal", "idempotency_key": "events-t1"}
    opened = await tool(url, running.stack, "support", "support.open_ticket", ticket, env)
    seen = await wait_for_view(view, lambda v: v["open_tickets"])
    assert [t["ticket_id"] for t in seen["open_tickets"]] == [opened["ticket_id"]]

    # The same change retried with its key is one change and one event: at-least-once, deduped.
    await tool(url, running.stack, "billing", "billing.change_plan", change, env)
    published = rows(
        system_db_path(running.data_dir, "billing"),
        "SELECT COUNT(*) FROM outbox WHERE CAST(body AS TEXT) LIKE ? AND published_at IS NOT NULL",
        (f"%{customer['msisdn']}%",),
    )
    assert published == [(1,)]


async def test_a_refused_change_emits_nothing(running: RunningStack) -> None:
    secrets, url = running.stack.secrets, running.topology.gateway_mcp_url()
    assert secrets is not None
    customer = running.customers(60)[42]
    env = envelope_for(secrets, customer)
    bad = {"msisdn": customer["msisdn"], "plan_id": "NW-NOPE", "idempotency_key": "events-bad-1"}
    token = await running.token("billing", "gateway")
    result = await call_as(url, token, "billing.change_plan", bad, env)
    assert result.is_error
    assert rows(
        system_db_path(running.data_dir, "billing"),
        "SELECT COUNT(*) FROM outbox WHERE CAST(body AS TEXT) LIKE ?",
        ("%NW-NOPE%",),
    ) == [(0,)]
