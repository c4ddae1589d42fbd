"""report-lost-phone: the SIM is barred before anything else, a replacement is sent, the case is urgent.

Behind the real gateway, network and support systems; each test plays its own reference customer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from shared.envelope import ContextEnvelope
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def support(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("lost-phone"), "support") as running:
        yield running


async def test_stolen_phone_is_blocked_replaced_and_urgent(support: AgentOnStack) -> None:
    who = support.customers(5)[0]
    envelope = support.envelope(who)
    text = "someone stole my phone on the train, block it"
    answer = await support.specialist.send(text, "report-lost-phone", envelope=envelope)
    assert answer.result.status == "completed"
    calls = [c for c in support.calls(envelope.conversation_id) if c.decision == "allow"]
    assert [c.tool for c in calls][:3] == ["network.block_sim", "network.order_replacement_sim", "support.open_ticket"]
    block, _, ticket = calls[:3]
    assert block.args["msisdn"] == who["msisdn"] and block.args["reason"] == "stolen" and block.args["idempotency_key"]
    assert ticket.args["priority"] == "urgent" and ticket.args["category"] == "lost-or-stolen"
    order = re.search(r"\bSIM-\w+", answer.text)
    assert order and order.group(0) in ticket.args["summary"]
    case = str(answer.result.data["ticket_id"])
    assert case.startswith("TCK-") and f"urgent case, {case}" in answer.text
    assert "blocked the SIM" in answer.text and "police" in answer.text
    assert answer.result.data["priority"] == "urgent" and answer.result.data["sim_status"] == "blocked"


async def test_lost_phone_is_blocked_without_police_advice(support: AgentOnStack) -> None:
    who = support.customers(5)[1]
    envelope = support.envelope(who)
    answer = await support.specialist.send("I lost my phone somewhere in town", "report-lost-phone", envelope=envelope)
    (block,) = [c for c in support.calls(envelope.conversation_id) if c.tool == "network.block_sim"]
    assert block.args["reason"] == "lost"
    assert "police" not in answer.text and answer.result.data["reason"] == "lost"


async def test_nothing_is_blocked_before_the_customer_is_verified(support: AgentOnStack) -> None:
    anonymous = ContextEnvelope(conversation_id=f"conv-{uuid.uuid4().hex[:8]}")
    answer = await support.specialist.send("my phone was stolen", "report-lost-phone", envelope=anonymous)
    assert answer.result.status == "auth-required"
    assert support.calls(anonymous.conversation_id) == []
