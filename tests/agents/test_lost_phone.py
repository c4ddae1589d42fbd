"""report-lost-phone: the SIM is barred before anything else, a replacement is sent, the case is urgent."""

from __future__ import annotations

from shared.envelope import ContextEnvelope
from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_stolen_phone_is_blocked_replaced_and_urgent(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    answer = await support.send("someone stole my phone on the train, block it", "report-lost-phone")
    assert answer.result.status == "completed"
    assert gateway.tools_called()[:3] == ["network.block_sim", "network.order_replacement_sim", "support.open_ticket"]
    block = gateway.last("network.block_sim")
    assert block.args["msisdn"] == "+15550100123" and block.args["reason"] == "stolen"
    assert block.args["idempotency_key"]
    ticket = gateway.last("support.open_ticket").args
    assert ticket["priority"] == "urgent" and ticket["category"] == "lost-or-stolen"
    assert "SIM-0001" in ticket["summary"]
    assert "blocked the SIM" in answer.text and "SIM-0001" in answer.text and "TCK-1001" in answer.text
    assert "police" in answer.text
    assert answer.result.data["priority"] == "urgent" and answer.result.data["sim_status"] == "blocked"


async def test_lost_phone_is_blocked_without_police_advice(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    answer = await support.send("I lost my phone somewhere in town", "report-lost-phone")
    assert gateway.last("network.block_sim").args["reason"] == "lost"
    assert "police" not in answer.text and answer.result.data["reason"] == "lost"


async def test_nothing_is_blocked_before_the_customer_is_verified(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    answer = await support.send(
        "my phone was stolen", "report-lost-phone", envelope=ContextEnvelope(conversation_id="c")
    )
    assert answer.result.status == "auth-required"
    assert gateway.calls == []
