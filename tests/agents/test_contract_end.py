"""contract-end: the end date and the fee to leave, quoted with its currency; nothing is cancelled.

Behind the real gateway and billing system: customers in and out of their minimum term are found
in the reference data, and what the reply must say is read from the same system.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
import pytest_asyncio

from agents.runtime.text import money
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def billing(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("contract-end"), "billing") as running:
        yield running


async def _with_contract(billing: AgentOnStack, *, in_term: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first reference customer whose contract is (or is no longer) in its minimum term."""
    for who in billing.customers(60):
        contract = await billing.read("billing.get_contract", {"msisdn": who["msisdn"]}, billing.envelope(who))
        if contract["in_minimum_term"] is in_term:
            return who, contract
    raise AssertionError(f"no reference customer with in_minimum_term={in_term}")


def _day(iso: str) -> str:
    when = date.fromisoformat(iso)
    return f"{when.day} {when:%B %Y}"


async def test_in_term_the_fee_is_quoted_with_months_left(billing: AgentOnStack) -> None:
    who, contract = await _with_contract(billing, in_term=True)
    envelope = billing.envelope(who)
    answer = await billing.specialist.send("how much is my early exit fee", "contract-end", envelope=envelope)
    assert answer.result.status == "completed"
    months = contract["months_remaining"]
    assert _day(contract["ends_on"]) in answer.text and f"{months} month{'s' if months != 1 else ''}" in answer.text
    currency = contract.get("currency") or "GBP"
    per_month, fee = money(contract["exit_fee_per_month"], currency), money(contract["early_exit_fee"], currency)
    assert f"{per_month} for each month left, so {fee}" in answer.text
    assert f"{contract['notice_days']} days' notice" in answer.text and "colleague" in answer.text
    assert answer.result.data["early_exit_fee"] == contract["early_exit_fee"]
    assert answer.result.data["in_minimum_term"] is True
    billing_calls = [c.tool for c in billing.calls(envelope.conversation_id) if c.tool.startswith("billing.")]
    assert billing_calls == ["billing.get_contract"]


async def test_out_of_term_there_is_no_fee(billing: AgentOnStack) -> None:
    who, contract = await _with_contract(billing, in_term=False)
    answer = await billing.specialist.send("am i still in contract", "contract-end", envelope=billing.envelope(who))
    assert f"ended on {_day(contract['ends_on'])}" in answer.text and "no fee" in answer.text
    assert answer.result.data["in_minimum_term"] is False


async def test_leaving_gets_a_cheaper_plan_and_the_offer_of_a_colleague(billing: AgentOnStack) -> None:
    plans = (await billing.read("billing.list_plans", {}, billing.envelope(billing.customers(1)[0])))["plans"]
    dearest = max(plans, key=lambda p: p["monthly_fee"])
    who = next(c for c in billing.customers(200) if c["plan_id"] == dearest["plan_id"])
    offered = max((p for p in plans if p["monthly_fee"] < dearest["monthly_fee"]), key=lambda p: p["monthly_fee"])
    envelope = billing.envelope(who)
    text = "cancel my contract, I'm going to another network"
    answer = await billing.specialist.send(text, "contract-end", envelope=envelope)
    saving = money(round(dearest["monthly_fee"] - offered["monthly_fee"], 2), "GBP")
    assert f"move to {offered['name']} at {money(offered['monthly_fee'], 'GBP')} a month, {saving}" in answer.text
    assert "say yes and I'll connect you with a colleague" in answer.text
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "escalation"
    assert answer.result.data["offered_plan"] == offered["plan_id"]
    assert "billing.change_plan" not in [c.tool for c in billing.calls(envelope.conversation_id)]
