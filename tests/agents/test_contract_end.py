"""contract-end: the end date and the fee to leave, quoted with its currency; nothing is cancelled."""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_in_term_the_fee_is_quoted_with_months_left(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    answer = await billing.send("how much is my early exit fee", "contract-end")
    assert answer.result.status == "completed"
    assert gateway.last("billing.get_contract").args == {"msisdn": "+15550100123"}
    assert "1 March 2027" in answer.text and "4 months" in answer.text
    assert "£15.00 for each month left, so £60.00" in answer.text and "30 days' notice" in answer.text
    assert "colleague" in answer.text
    assert answer.result.data["early_exit_fee"] == 60.0 and answer.result.data["in_minimum_term"] is True
    assert [t for t in gateway.tools_called() if t.startswith("billing.")] == ["billing.get_contract"]


async def test_out_of_term_there_is_no_fee(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.contract_months_left = 0
    billing = await start_specialist("billing")
    answer = await billing.send("am i still in contract", "contract-end")
    assert "ended on 1 March 2025" in answer.text and "no fee" in answer.text
    assert answer.result.data["in_minimum_term"] is False


async def test_leaving_gets_a_cheaper_plan_and_the_offer_of_a_colleague(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.plan_id = "unlimited-max"
    billing = await start_specialist("billing")
    answer = await billing.send("cancel my contract, I'm going to another network", "contract-end")
    assert "move to Basic 10 at £15.00 a month, £30.00 a month less than now" in answer.text
    assert "say yes and I'll connect you with a colleague" in answer.text
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "escalation"
    assert answer.result.data["offered_plan"] == "basic-10"
    assert "billing.change_plan" not in gateway.tools_called()
