"""troubleshoot-service and ticket-status, behind the real gateway on the reference systems.

Each test picks reference customers by their dataset flags (a recent network contact, an open
ticket, an outage in their area) and checks the answer against what the systems hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def support(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(Path(tmp_path_factory.mktemp("support")), "support") as running:
        yield running


def one(support: AgentOnStack, index: int = 0, **flags: Any) -> dict[str, Any]:
    found = support.customers(index + 1, **flags)
    assert len(found) > index, f"the reference data has no customer with {flags}"
    return found[index]


async def test_a_repeat_problem_is_named_and_its_ticket_opened_only_after_a_yes(support: AgentOnStack) -> None:
    who = one(support, has_recent_network_interaction=True, has_open_ticket=False, in_outage_area=False)
    envelope = support.envelope(who)
    offered = await support.specialist.send("my mobile data is slow again", "troubleshoot-service", envelope=envelope)
    assert offered.result.status == "input-required" and offered.result.data["repeat"] is True
    assert "contacted us about this on" in offered.text and "high priority ticket" in offered.text
    calls = support.calls(envelope.conversation_id)
    # The diagnosis reads go to the gateway as one batch, so their records may come in any order.
    assert sorted(c.tool for c in calls[:5]) == [
        "billing.get_entitlements",
        "crm.list_interactions",
        "network.get_line_status",
        "support.list_tickets",
        "support.search_knowledge",
    ]
    assert "support.open_ticket" not in [c.tool for c in calls]

    answer = await support.specialist.send("yes please", "troubleshoot-service", task=offered, envelope=envelope)
    assert answer.result.status == "completed"
    opened = next(c for c in support.calls(envelope.conversation_id) if c.tool == "support.open_ticket")
    assert opened.decision == "allow" and opened.args["priority"] == "high" and opened.args["email"] == who["email"]
    assert opened.args["repeat_of"] == offered.result.data["repeat_of"] == answer.result.data["repeat_of"]
    assert answer.result.data["ticket_id"] in answer.text and "high priority" in answer.text


async def test_a_no_to_the_ticket_opens_nothing(support: AgentOnStack) -> None:
    who = one(support, 1, has_recent_network_interaction=False, has_open_ticket=False, in_outage_area=False)
    envelope = support.envelope(who)
    offered = await support.specialist.send("my calls keep dropping", "troubleshoot-service", envelope=envelope)
    unclear = await support.specialist.send("hmm", "troubleshoot-service", task=offered, envelope=envelope)
    assert unclear.result.status == "input-required" and "yes or no" in unclear.text
    declined = await support.specialist.send("no thanks", "troubleshoot-service", task=unclear, envelope=envelope)
    assert declined.result.status == "completed" and declined.result.data["ticket_id"] is None
    assert "haven't opened a ticket" in declined.text
    assert "support.open_ticket" not in [c.tool for c in support.calls(envelope.conversation_id)]


async def test_a_vague_problem_with_no_history_gets_no_unrelated_article(support: AgentOnStack) -> None:
    who = one(support, has_recent_network_interaction=False, has_open_ticket=False, in_outage_area=False)
    envelope = support.envelope(who)
    answer = await support.specialist.send(
        "it's still not working, same problem", "troubleshoot-service", envelope=envelope
    )
    assert "support.search_knowledge" not in [c.tool for c in support.calls(envelope.conversation_id)]
    assert "Please try these steps" not in answer.text and answer.result.data["article_id"] is None


async def test_an_outage_in_the_customers_area_is_mentioned(support: AgentOnStack) -> None:
    who = one(support, in_outage_area=True, has_recent_network_interaction=False)
    envelope = support.envelope(who)
    line = await support.read("network.get_line_status", {"msisdn": who["msisdn"]}, envelope)
    answer = await support.specialist.send(
        "mobile data keeps dropping since this morning", "troubleshoot-service", envelope=envelope
    )
    assert f"known outage in {line['area']}" in answer.text and "Would you like a ticket" in answer.text
    assert answer.result.data["outage_id"] == line["area_outage"]["id"]
    assert "support.open_ticket" not in [c.tool for c in support.calls(envelope.conversation_id)]


async def test_a_feature_the_plan_includes_is_never_denied(support: AgentOnStack) -> None:
    # Billing is the source of truth for the plan: a customer whose billing plan includes roaming.
    for who in support.customers(60):
        envelope = support.envelope(who)
        plan = await support.read("billing.get_entitlements", {"msisdn": who["msisdn"]}, envelope)
        if "eu-roaming" in plan["features"]:
            break
    else:
        pytest.fail("the reference data has no customer whose plan includes roaming")
    answer = await support.specialist.send(
        "roaming is not working, is it even on my plan?", "troubleshoot-service", envelope=envelope
    )
    assert f"Your {plan['plan_name']} plan includes eu-roaming" in answer.text
    assert "not included" not in answer.text


async def test_a_vague_problem_is_asked_about_first(support: AgentOnStack) -> None:
    envelope = support.envelope(one(support, 1))
    answer = await support.specialist.send("help", "troubleshoot-service", envelope=envelope)
    assert answer.result.status == "input-required" and "what's going wrong" in answer.text
    assert support.calls(envelope.conversation_id) == []


async def test_ticket_status_lists_open_tickets_first(support: AgentOnStack) -> None:
    # A customer with an open ticket and a closed one, so the order shows.
    for who in support.customers(40, has_open_ticket=True):
        envelope = support.envelope(who)
        args = {"email": who["email"], "status": "any"}
        tickets = (await support.read("support.list_tickets", args, envelope))["tickets"]
        opened = [t for t in tickets if t["status"] == "open"]
        closed = [t for t in tickets if t["status"] != "open"]
        if opened and closed:
            break
    else:
        pytest.fail("the reference data has no customer with both an open and a closed ticket")
    answer = await support.specialist.send("any news on my ticket?", "ticket-status", envelope=envelope)
    assert answer.result.status == "completed" and answer.result.data["open"] == len(opened)
    assert answer.text.index(opened[0]["ticket_id"]) < answer.text.index(closed[0]["ticket_id"])
    listed = next(c for c in support.calls(envelope.conversation_id) if c.tool == "support.list_tickets")
    assert listed.args == args
