"""make-complaint: a complaint raises priority; a repeat while one is open is urgent and linked.

Behind the real gateway and support system; each test plays its own reference customer with no
open case, and the repeat is of the complaint the same test recorded first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

OPEN = "support.open_ticket"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def support(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("complaint"), "support") as running:
        yield running


def _customer(support: AgentOnStack, index: int) -> dict[str, Any]:
    return support.customers(5, has_open_ticket=False)[index]


async def test_a_complaint_is_recorded_at_high_priority(support: AgentOnStack) -> None:
    envelope = support.envelope(_customer(support, 0))
    text = "the engineer never turned up twice and nobody called me"
    answer = await support.specialist.send(text, "make-complaint", envelope=envelope)
    assert answer.result.status == "completed"
    (opened,) = [c.args for c in support.calls(envelope.conversation_id) if c.tool == OPEN]
    assert opened["category"] == "complaint" and opened["priority"] == "high" and "repeat_of" not in opened
    assert opened["summary"] == text
    case = str(answer.result.data["ticket_id"])
    assert case.startswith("TCK-") and case in answer.text
    assert "high priority" in answer.text and "colleague" in answer.text


async def test_a_bare_complaint_is_asked_about_first(support: AgentOnStack) -> None:
    envelope = support.envelope(_customer(support, 1))
    first = await support.specialist.send("I want to complain", "make-complaint", envelope=envelope)
    assert first.result.status == "input-required" and "what happened" in first.text
    assert OPEN not in [c.tool for c in support.calls(envelope.conversation_id)]
    text = "the shop sold me the wrong phone and refused to swap it"
    done = await support.specialist.send(text, "make-complaint", task=first, envelope=envelope)
    assert done.result.status == "completed"
    (opened,) = [c.args for c in support.calls(envelope.conversation_id) if c.tool == OPEN]
    assert opened["summary"].startswith("the shop sold me the wrong phone")


async def test_a_repeat_complaint_is_urgent_and_linked(support: AgentOnStack) -> None:
    who = _customer(support, 2)
    envelope = support.envelope(who)
    first = await support.specialist.send("rude staff in your store today", "make-complaint", envelope=envelope)
    earlier = str(first.result.data["ticket_id"])
    again = support.envelope(who)  # a later conversation, while the first case is still open
    text = "still nobody has answered my complaint about the shop staff"
    answer = await support.specialist.send(text, "make-complaint", envelope=again)
    (opened,) = [c.args for c in support.calls(again.conversation_id) if c.tool == OPEN]
    assert opened["priority"] == "urgent" and opened["repeat_of"] == earlier
    assert earlier in answer.text and answer.result.data["priority"] == "urgent"
