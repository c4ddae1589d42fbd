"""troubleshoot-service and ticket-status."""

from __future__ import annotations

from datetime import timedelta

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import NOW, FakeGateway, ticket


def _interaction(days_ago: int, summary: str, channel: str = "voice") -> dict:
    return {
        "interaction_id": f"INT-{days_ago}",
        "channel": channel,
        "started_at": (NOW - timedelta(days=days_ago)).isoformat(),
        "topic": "troubleshoot-service",
        "summary": summary,
        "outcome": "ticket-opened",
        "conversation_id": f"old-{days_ago}",
    }


async def test_repeat_problem_is_named_and_ticket_is_high_priority(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.interactions = [_interaction(5, "mobile data very slow at home"), _interaction(90, "data slow")]
    support = await start_specialist("support")
    answer = await support.send("my mobile data is slow again", "troubleshoot-service")
    assert answer.result.status == "completed"
    day = NOW - timedelta(days=5)
    assert f"I can see you contacted us about this on {day.day} {day:%b} by phone" in answer.text
    assert "TCK-1001" in answer.text and "high priority" in answer.text
    assert "1. Turn airplane mode on and off" in answer.text
    opened = gateway.last("support.open_ticket")
    assert opened.args["priority"] == "high" and opened.args["repeat_of"] == "INT-5"
    assert opened.args["category"] == "connectivity" and opened.args["email"] == "ana@example.com"
    assert answer.result.data["ticket_id"] == "TCK-1001" and answer.result.data["repeat_of"] == "INT-5"
    assert gateway.tools_called()[:5] == [
        "billing.get_entitlements",
        "network.get_line_status",
        "crm.list_interactions",
        "support.list_tickets",
        "support.search_knowledge",
    ]


async def test_repeat_prefers_the_earlier_ticket(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.interactions = [_interaction(5, "mobile data very slow at home")]
    gateway.tickets = [ticket("TCK-900", 5, "Slow data at home"), ticket("TCK-100", 80, "Slow data", "closed")]
    support = await start_specialist("support")
    answer = await support.send("data still slow", "troubleshoot-service")
    open_ticket = gateway.last("support.open_ticket")
    assert open_ticket.args["repeat_of"] == "TCK-900" and open_ticket.args["priority"] == "high"
    assert answer.result.data["repeat"] is True


async def test_same_problem_again_is_the_earlier_tickets_problem(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.interactions = [_interaction(2, "question about a double charge", "chat")]
    gateway.tickets = [ticket("TCK-900", 2, "Mobile data drops at home")]
    support = await start_specialist("support")
    answer = await support.send("it's still not working, same problem", "troubleshoot-service")
    opened = gateway.last("support.open_ticket")
    # The repeat links to the earlier ticket (not a CRM contact), and help is for that problem.
    assert opened.args["repeat_of"] == "TCK-900" and opened.args["category"] == "connectivity"
    assert "Mobile data drops at home" in gateway.last("support.search_knowledge").args["query"]
    assert "TCK-900" in answer.text and answer.result.data["repeat"] is True


async def test_a_vague_problem_with_no_history_gets_no_unrelated_article(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    answer = await support.send("it's still not working, same problem", "troubleshoot-service")
    assert "support.search_knowledge" not in gateway.tools_called()
    assert "Please try these steps" not in answer.text and answer.result.data["article_id"] is None


async def test_first_time_problem_gets_normal_priority_and_mentions_outage(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.interactions = [_interaction(90, "mobile data slow"), _interaction(3, "question about my bill", "chat")]
    gateway.outage = {"id": "OUT-3", "description": "a mast is being repaired, expected fixed by 6pm"}
    support = await start_specialist("support")
    answer = await support.send("mobile data keeps dropping since this morning", "troubleshoot-service")
    assert "contacted us about this" not in answer.text
    assert "known outage in Riverside: a mast is being repaired" in answer.text
    opened = gateway.last("support.open_ticket")
    assert opened.args["priority"] == "normal" and "repeat_of" not in opened.args
    assert answer.result.data["outage_id"] == "OUT-3"


async def test_feature_the_plan_includes_is_never_denied(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    gateway.plan_id = "unlimited-max"  # billing has it, even if CRM's copy still says Basic 10
    support = await start_specialist("support")
    answer = await support.send("roaming is not working, is it even on my plan?", "troubleshoot-service")
    assert "Your Unlimited Max plan includes roaming" in answer.text
    assert "not included" not in answer.text


async def test_vague_problem_is_asked_about_first(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    support = await start_specialist("support")
    answer = await support.send("help", "troubleshoot-service")
    assert answer.result.status == "input-required"
    assert "what's going wrong" in answer.text
    assert gateway.calls == []


async def test_ticket_status_lists_open_tickets_first(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    gateway.tickets = [ticket("TCK-900", 60, "No data", "closed"), ticket("TCK-1001", 1, "Slow data again")]
    support = await start_specialist("support")
    answer = await support.send("any news on my ticket?", "ticket-status")
    assert answer.result.status == "completed"
    assert answer.text.index("TCK-1001") < answer.text.index("TCK-900")
    assert answer.result.data["open"] == 1
    assert gateway.last("support.list_tickets").args == {"email": "ana@example.com", "status": "any"}
