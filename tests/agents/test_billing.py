"""explain-bill and change-plan."""

from __future__ import annotations

import pytest
from a2a.utils.errors import UnsupportedOperationError

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_explains_the_bill_against_last_month(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    billing = await start_specialist("billing")
    answer = await billing.send("why is my bill higher?", "explain-bill")
    assert answer.result.status == "completed"
    assert "Your latest bill (2025-11) is 32.50." in answer.text
    assert "14.50 more than the month before (18.00)" in answer.text
    assert "Roaming day pass: 12.50 (new this month)" in answer.text
    assert "Extra data: 5.00 (was 3.00)" in answer.text
    assert answer.result.data["difference"] == "14.5"
    assert gateway.last("billing.list_invoices").args == {"msisdn": "+15550100123", "limit": 2}
    logged = gateway.last("crm.log_interaction")
    assert logged.args["topic"] == "explain-bill" and logged.args["email"] == "ana@example.com"
    assert logged.args["conversation_id"] == "conv-1"


async def test_change_plan_by_fuzzy_name_with_confirmation(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    first = await billing.send("I'd like to change my plan", "change-plan")
    assert first.result.status == "input-required"
    assert "You're on Basic 10" in first.text and "Unlimited Max: 45.00 a month" in first.text

    picked = await billing.send("the unlimted one", "change-plan", task=first)
    assert picked.result.status == "input-required"
    assert "move to Unlimited Max" in picked.text
    assert "billing.change_plan" not in gateway.tools_called()

    done = await billing.send("yep", "change-plan", task=picked)
    assert done.result.status == "completed"
    assert "You're now on Unlimited Max, effective from 1 Dec" in done.text
    assert done.result.data["new_plan_id"] == "unlimited-max"
    change = gateway.last("billing.change_plan")
    assert change.args["plan_id"] == "unlimited-max" and len(change.args["idempotency_key"]) == 32


async def test_a_repeated_confirmation_changes_the_plan_once(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    picked = await billing.send("switch me to Family Share", "change-plan")
    assert "move to Family Share" in picked.text
    await billing.send("sure", "change-plan", task=picked)
    with pytest.raises(UnsupportedOperationError, match="terminal state"):
        await billing.send("sure", "change-plan", task=picked)
    assert [c.tool for c in gateway.calls].count("billing.change_plan") == 1


async def test_the_change_reads_the_plan_again_before_acting(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    picked = await billing.send("switch me to Family Share", "change-plan")
    reads = len([c for c in gateway.calls if c.tool == "billing.list_plans"])
    done = await billing.send("yes", "change-plan", task=picked)
    assert done.result.data["changed"] is True
    after = [c.tool for c in gateway.calls]
    assert after.count("billing.list_plans") == reads + 1
    assert after.index("billing.get_account", len(after) - 4) < after.index("billing.change_plan")


async def test_declined_change_changes_nothing(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    billing = await start_specialist("billing")
    picked = await billing.send("upgrade to unlimited max", "change-plan")
    declined = await billing.send("nah", "change-plan", task=picked)
    assert declined.result.status == "completed"
    assert declined.result.data == {"changed": False}
    assert "billing.change_plan" not in gateway.tools_called()


async def test_unclear_answer_asks_again(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    picked = await billing.send("upgrade to unlimited max", "change-plan")
    unclear = await billing.send("hmm what does it include", "change-plan", task=picked)
    assert unclear.result.status == "input-required"
    assert "yes or no" in unclear.text
