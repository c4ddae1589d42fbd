"""One truth per fact: a change at its system of record reaches every place that shows it.

Each fact (plan, consent, ticket state, contact details, SIM swap) is changed where it lives and then read
where it is shown: the CRM's customer view (what agents read), ``switchboard customers`` (the
reference list, read from the databases) and the gateway's own projection (what governed
calls are decided on). The same tests run on the in-process bus and on NATS JetStream.

And the attack the gateway's projection must withstand: consent withdrawn, a marketing call
right after. It is denied, because either the withdrawal's event has arrived or the gateway
does not trust its copy (a write it forwarded is not yet in its feed, or the feed is behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import nats
import pytest
import pytest_asyncio
from nats.js.errors import NotFoundError

from mcp_servers.dataset import sample_customers
from orchestrator.launcher import Stack
from shared.bus.nats_layout import stream_name
from shared.envelope import ContextEnvelope
from shared.settings import Settings
from tests.e2e.conftest import RunningStack
from tests.e2e.gateway_client import call_as, text_of
from tests.events.conftest import envelope_for, tool
from tests.governance.e2e_helpers import staff
from tests.services import service_missing
from tests.signals.conftest import SIM_SWAP, notification, send

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

NATS_URL = "nats://127.0.0.1:4222"
WAIT = 15.0
CUSTOMERS = 60


async def _nats_or_skip() -> None:
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False)
    except Exception as exc:
        service_missing(f"NATS JetStream is not running at {NATS_URL}: {exc}")
    await nc.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module", params=["memory", "nats"])
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningStack]:
    bus: dict[str, Any] = {}
    if request.param == "nats":
        await _nats_or_skip()
        # A deployment of its own: its stream and subjects are not shared with any other run.
        bus = {"bus_url": NATS_URL, "deployment": f"proj-{uuid.uuid4().hex[:8]}"}
    data_dir = tmp_path_factory.mktemp(f"projections-{request.param}")
    running = Stack(Settings(data_dir=data_dir, customers=CUSTOMERS, host="127.0.0.1", **bus), ephemeral_ports=True)
    topology = await running.start()
    try:
        yield RunningStack(running, topology, data_dir)
    finally:
        await running.stop()
        if bus:  # the server is shared: the test's stream (and its consumers) go with it
            nc = await nats.connect(NATS_URL)
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(stream_name(bus["deployment"]))
            await nc.close()


async def until(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], what: str) -> Any:
    """Read (bounded) until ``done``: propagation is asynchronous by design, and the bound is the claim."""
    last: Any = None
    try:
        async with asyncio.timeout(WAIT):
            while True:
                last = await read()
                if done(last):
                    return last
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{what} within {WAIT} s; last seen: {last}") from None


class Places:
    """Every place that shows a customer's facts, read as their users read them."""

    def __init__(self, stack: RunningStack, customer: dict[str, Any], env: ContextEnvelope) -> None:
        self.stack, self.customer, self.env = stack, customer, env
        self.url = stack.topology.gateway_mcp_url()

    async def call(self, agent: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        return await tool(self.url, self.stack.stack, agent, name, args, self.env)

    async def attempt(self, agent: str, name: str, args: dict[str, Any]) -> tuple[bool, str]:
        token = await self.stack.token(agent, "gateway")
        result = await call_as(self.url, token, name, args, self.env)
        return not result.is_error, text_of(result)

    async def crm_view(self) -> dict[str, Any]:
        return await self.call("support", "crm.get_customer_view", {"customer_id": self.customer["customer_id"]})

    async def listed(self) -> dict[str, Any]:
        """The customer as ``switchboard customers`` lists them."""
        people = sample_customers(self.stack.data_dir, CUSTOMERS)
        return next(p for p in people if p["customer_id"] == self.customer["customer_id"])

    async def gateway_health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.stack.topology.gateway, timeout=WAIT) as http:
            return (await http.get("/healthz")).json()

    async def offer(self, n: int) -> tuple[bool, str]:
        offer = {"email": self.customer["email"], "offer_id": f"OFR-{n}", "channel": "email"}
        return await self.attempt("billing", "crm.send_offer", {**offer, "idempotency_key": f"proj-offer-{n}"})


def _places(stack: RunningStack, taken: set[str], **flags: Any) -> Places:
    secrets = stack.stack.secrets
    assert secrets is not None
    customer = next(c for c in stack.customers(CUSTOMERS, **flags) if c["customer_id"] not in taken)
    taken.add(customer["customer_id"])
    return Places(stack, customer, envelope_for(secrets, customer))


def _moved(places: Places, customer: dict[str, Any]) -> Places:
    """The same customer after verifying again: their context names their new contact details."""
    secrets = places.stack.stack.secrets
    assert secrets is not None
    return Places(places.stack, customer, envelope_for(secrets, customer))


@pytest.fixture(scope="module")
def taken() -> set[str]:
    return set()


async def test_consent_withdrawn_then_a_marketing_call_at_once_is_denied(stack: RunningStack, taken: set[str]) -> None:
    places = _places(stack, taken, has_open_ticket=False, has_marketing_consent=True)
    await until(places.gateway_health, lambda h: h["projection"]["feeds"]["consent"]["fresh"], "consent feed fresh")
    allowed, why = await places.offer(1)
    assert allowed, why
    before = (await places.gateway_health())["projection"]["reads"]
    allowed, why = await places.offer(2)
    assert allowed, why
    after = (await places.gateway_health())["projection"]["reads"]
    # The second call was decided on the gateway's copy: no consent read went to the registry.
    assert after["hits"] > before["hits"] and after["misses"] == before["misses"], (before, after)

    revoke = {"customer_id": places.customer["customer_id"], "purpose": "marketing", "idempotency_key": "proj-r1"}
    await places.call("identity", "consent.revoke_consent", revoke)
    allowed, why = await places.offer(3)
    assert not allowed and "guard.consent-required" in why, why


async def test_plan_consent_ticket_and_sim_swap_reach_every_place(stack: RunningStack, taken: set[str]) -> None:
    places = _places(stack, taken, has_open_ticket=False, has_marketing_consent=True, has_recent_sim_swap=False)
    customer = places.customer

    # Plan (billing is the system of record): the CRM view and the list follow it.
    target = "NW-PLUS-60" if customer["plan_id"] != "NW-PLUS-60" else "NW-ESS-10"
    change = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "proj-plan-1"}
    await places.call("billing", "billing.change_plan", change)
    view = await until(places.crm_view, lambda v: (v["plan"] or {}).get("plan_id") == target, "CRM view shows plan")
    assert view["as_of"]["plan"] <= view["last_event"]["applied_at"]
    # Its staleness is measured per source: billing's feed is current, so nothing is flagged behind.
    view = await until(places.crm_view, lambda v: "billing" not in v["behind"], "view: billing feed current")
    assert 0 <= view["feeds"]["billing"] <= 1.0
    listed = await until(places.listed, lambda c: c["plan_id"] == target, "the list shows the plan")
    assert listed["crm_plan_name"] == listed["plan_name"] and not listed["crm_plan_stale"], listed
    assert listed["crm_view_lag_seconds"] is not None and listed["crm_view_lag_seconds"] >= 0

    # Ticket state (support): the view lists it, the gateway denies marketing naming it, the list flags it.
    ticket = {"email": customer["email"], "category": "network", "summary": "no signal", "idempotency_key": "proj-t1"}
    opened = (await places.call("support", "support.open_ticket", ticket))["ticket_id"]
    await until(places.crm_view, lambda v: [t["ticket_id"] for t in v["open_tickets"]] == [opened], "view: ticket")
    allowed, why = await places.offer(10)
    assert not allowed and opened in why, why
    assert (await places.listed())["has_open_ticket"]

    # Consent (the consent registry): the view shows the choice, the gateway denies on it, the list too.
    revoke = {"customer_id": customer["customer_id"], "purpose": "marketing", "idempotency_key": "proj-r2"}
    await places.call("identity", "consent.revoke_consent", revoke)
    await until(places.crm_view, lambda v: v["consents"].get("marketing") is False, "view: consent withdrawn")
    allowed, why = await places.offer(11)
    assert not allowed and "guard.consent-required" in why, why
    assert not (await places.listed())["has_marketing_consent"]

    # Contact details (identity): the view shows them, the CRM's own records follow the new
    # address, the list shows them. A verified context names the old keys, so the customer
    # verifies again before anything is read by the new address (the gateway binds subjects).
    email = f"moved-{uuid.uuid4().hex[:8]}@example.com"
    change = {"customer_id": customer["customer_id"], "email": email, "idempotency_key": "proj-c1"}
    await places.call("identity", "identity.update_contact_details", change)
    view = await until(places.crm_view, lambda v: (v["contact"] or {}).get("email") == email, "view: contact")
    assert view["keys"]["email"] == email
    listed = await until(places.listed, lambda c: c["email"] == email, "the list shows the address")
    assert listed["has_open_ticket"]  # support moved the open ticket to the new address
    customer = {**customer, "email": email}
    places = _moved(places, customer)
    assert (await places.call("support", "crm.get_profile", {"email": email}))["name"]
    tickets = (await places.call("support", "support.list_tickets", {"email": email, "status": "open"}))["tickets"]
    assert [t["ticket_id"] for t in tickets] == [opened]
    contact = {"customer_id": customer["customer_id"]}
    assert (await places.call("escalation", "identity.get_contact_details", contact))["email"] == email

    # SIM swap (the network): the event names the customer, so the view shows it; the gateway
    # holds payments; the list flags the recent swap.
    accepted = await send(stack.topology.orchestrator, stack.data_dir, notification(SIM_SWAP, customer["msisdn"]))
    assert accepted.status_code == 202, accepted.text
    await until(places.crm_view, lambda v: bool(v["network"].get("sim_swapped_at")), "view: SIM swap")
    await until(places.listed, lambda c: c["has_recent_sim_swap"], "the list shows the SIM swap")
    allowed, why = await places.attempt(
        "payment", "payments.list_charges", {"account_number": customer["account_number"]}
    )
    assert allowed, why  # reads are not paused; payment actions are (behaviour 6 covers the refund)

    async def holds() -> dict[str, Any]:
        return (await staff(stack.topology.gateway, stack.data_dir, "compliance", "GET", "/fraud-holds")).json()

    # The gateway resolved the new number to the customer (its number map followed the change).
    held = await until(holds, lambda h: customer["customer_id"] in h["fraud_holds"], "gateway: fraud hold")
    assert held["fraud_holds"][customer["customer_id"]]["set_by"].startswith("signal:")
