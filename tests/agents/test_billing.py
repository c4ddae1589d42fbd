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


def _not_on(billing: AgentOnStack, index: int, *plan_ids: str) -> dict[str, Any]:
    """A customer of their own for the test, on none of ``plan_ids`` (so the plan asked for is a change)."""
    found = [c for c in billing.customers(12)[5:] if c["plan_id"] not in plan_ids]
    return found[index]


async def _listed(billing: AgentOnStack, who: dict[str, Any]) -> tuple[Any, list[dict[str, Any]], Any]:
    envelope = billing.envelope(who)
    shown = await billing.specialist.send("I'd like to change my plan", "change-plan", envelope=envelope)
    assert shown.result.status == "input-required" and shown.result.data["plans"], shown.text
    return shown, shown.result.data["plans"], billing.envelope(who, envelope.conversation_id)


@pytest.mark.parametrize(
    ("index", "said", "expected"),
    [
        (0, "the 30GB one please", "NW-EVR-30"),
        (1, "the £22 one", "NW-PLUS-60"),
    ],
)
async def test_a_plan_named_by_its_size_or_price(billing: AgentOnStack, index: int, said: str, expected: str) -> None:
    who = _not_on(billing, index, "NW-EVR-30", "NW-PLUS-60")
    shown, plans, envelope = await _listed(billing, who)
    name = next(p["name"] for p in plans if p["plan_id"] == expected)
    picked = await billing.specialist.send(said, "change-plan", task=shown, envelope=envelope)
    assert picked.result.status == "input-required" and f"move to {name}" in picked.text, picked.text


async def test_a_plan_named_by_its_place_in_the_list(billing: AgentOnStack) -> None:
    shown, plans, envelope = await _listed(billing, _not_on(billing, 2, "NW-ESS-10"))
    picked = await billing.specialist.send("the second one", "change-plan", task=shown, envelope=envelope)
    assert f"move to {plans[1]['name']}" in picked.text, picked.text


async def test_the_cheaper_one_is_the_one_plan_cheaper_than_theirs(billing: AgentOnStack) -> None:
    who = billing.customers(60, plan_id="NW-ESS-10")[-1]  # only Basic 2GB costs less
    shown, plans, envelope = await _listed(billing, who)
    picked = await billing.specialist.send("the cheaper one", "change-plan", task=shown, envelope=envelope)
    basic = next(p["name"] for p in plans if p["plan_id"] == "NW-BASIC-2")
    assert f"move to {basic}" in picked.text, picked.text


async def test_the_cheaper_one_among_several_is_asked_about_then_answered_by_place(billing: AgentOnStack) -> None:
    who = billing.customers(60, plan_id="NW-MAX-150")[-1]  # several plans cost less
    shown, plans, envelope = await _listed(billing, who)
    asked = await billing.specialist.send("the cheaper one", "change-plan", task=shown, envelope=envelope)
    assert asked.result.status == "input-required" and asked.text.startswith("Just to be sure"), asked.text
    assert plans[0]["name"] in asked.text and "Max 150GB" not in asked.text  # only the cheaper ones
    assert "billing.change_plan" not in [c.tool for c in billing.calls(envelope.conversation_id)]
    # "the first" now means the first plan the question named.
    picked = await billing.specialist.send("the first", "change-plan", task=shown, envelope=envelope)
    assert f"move to {plans[0]['name']}" in picked.text, picked.text
