"""explain-bill and change-plan, behind the real gateway on the reference billing system."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from a2a.utils.errors import UnsupportedOperationError

from agents.runtime.text import money
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def billing(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(Path(tmp_path_factory.mktemp("billing")), "billing") as running:
        yield running


def customer(billing: AgentOnStack, index: int) -> dict[str, Any]:
    # One customer per test: the tests share a stack, and a plan change is for good.
    return billing.customers(12)[index]


async def test_explains_the_latest_bill_from_billings_own_invoices(billing: AgentOnStack) -> None:
    ana = customer(billing, 0)
    envelope = billing.envelope(ana)
    answer = await billing.specialist.send("why is my bill higher?", "explain-bill", envelope=envelope)
    assert answer.result.status == "completed"
    invoices = (await billing.read("billing.list_invoices", {"msisdn": ana["msisdn"], "limit": 2}, envelope))[
        "invoices"
    ]
    latest = invoices[0]
    assert f"Your latest bill ({latest['period']}) is {money(latest['total'])}" in answer.text
    calls = billing.calls(envelope.conversation_id)
    read = next(c for c in calls if c.tool == "billing.list_invoices")
    assert read.decision == "allow" and read.args["msisdn"] == ana["msisdn"]
    logged = next(c for c in calls if c.tool == "crm.log_interaction")
    assert logged.args["topic"] == "explain-bill" and logged.args["email"] == ana["email"]


async def _pick_another_plan(billing: AgentOnStack, who: dict[str, Any]) -> tuple[Any, dict[str, Any], str]:
    envelope = billing.envelope(who)
    plans = (await billing.read("billing.list_plans", {}, envelope))["plans"]
    other = next(p for p in plans if p["plan_id"] != who["plan_id"])
    picked = await billing.specialist.send(f"switch me to {other['name']}", "change-plan", envelope=envelope)
    assert picked.result.status == "input-required" and f"move to {other['name']}" in picked.text, picked.text
    return picked, other, envelope.conversation_id


async def test_a_confirmed_change_is_made_once_in_billing(billing: AgentOnStack) -> None:
    who = customer(billing, 1)
    picked, plan, conversation = await _pick_another_plan(billing, who)
    assert "billing.change_plan" not in [c.tool for c in billing.calls(conversation)]
    envelope = billing.envelope(who, conversation)
    done = await billing.specialist.send("yes", "change-plan", task=picked, envelope=envelope)
    assert done.result.status == "completed" and f"You're now on {plan['name']}" in done.text
    with pytest.raises(UnsupportedOperationError, match="terminal state"):
        await billing.specialist.send("yes", "change-plan", task=picked, envelope=envelope)
    changes = [c for c in billing.calls(conversation) if c.tool == "billing.change_plan"]
    assert [(c.decision, c.args["plan_id"]) for c in changes] == [("allow", plan["plan_id"])]
    account = await billing.read("billing.get_account", {"msisdn": who["msisdn"]}, billing.envelope(who))
    assert account["plan_id"] == plan["plan_id"]


async def test_a_declined_change_changes_nothing(billing: AgentOnStack) -> None:
    who = customer(billing, 2)
    picked, _, conversation = await _pick_another_plan(billing, who)
    envelope = billing.envelope(who, conversation)
    declined = await billing.specialist.send("nah", "change-plan", task=picked, envelope=envelope)
    assert declined.result.status == "completed" and declined.result.data == {"changed": False}
    assert "billing.change_plan" not in [c.tool for c in billing.calls(conversation)]
    account = await billing.read("billing.get_account", {"msisdn": who["msisdn"]}, billing.envelope(who))
    assert account["plan_id"] == who["plan_id"]


async def test_an_unclear_answer_asks_again(billing: AgentOnStack) -> None:
    who = customer(billing, 3)
    picked, _, conversation = await _pick_another_plan(billing, who)
    envelope = billing.envelope(who, conversation)
    unclear = await billing.specialist.send("hmm what does it include", "change-plan", task=picked, envelope=envelope)
    assert unclear.result.status == "input-required" and "yes or no" in unclear.text
