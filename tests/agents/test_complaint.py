"""make-complaint: a complaint raises priority; a repeat while one is open is urgent and linked."""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway, ticket


async def test_a_complaint_is_recorded_at_high_priority(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    answer = await support.send("the engineer never turned up twice and nobody called me", "make-complaint")
    assert answer.result.status == "completed"
    opened = gateway.last("support.open_ticket").args
    assert opened["category"] == "complaint" and opened["priority"] == "high" and "repeat_of" not in opened
    assert opened["summary"] == "the engineer never turned up twice and nobody called me"
    assert "TCK-1001" in answer.text and "high priority" in answer.text and "colleague" in answer.text


async def test_a_bare_complaint_is_asked_about_first(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    support = await start_specialist("support")
    first = await support.send("I want to complain", "make-complaint")
    assert first.result.status == "input-required" and "what happened" in first.text
    assert "support.open_ticket" not in gateway.tools_called()
    done = await support.send("the shop sold me the wrong phone and refused to swap it", "make-complaint", task=first)
    assert done.result.status == "completed"
    assert gateway.last("support.open_ticket").args["summary"].startswith("the shop sold me the wrong phone")


async def test_a_repeat_complaint_is_urgent_and_linked(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.tickets = [{**ticket("TCK-700", 9, "Rude staff in store"), "category": "complaint"}]
    support = await start_specialist("support")
    answer = await support.send("still nobody has answered my complaint about the shop staff", "make-complaint")
    opened = gateway.last("support.open_ticket").args
    assert opened["priority"] == "urgent" and opened["repeat_of"] == "TCK-700"
    assert "TCK-700" in answer.text and answer.result.data["priority"] == "urgent"
