"""The retention-offer skill: it meets the house rules, its agent is granted exactly its tools, and
its discount goes through the real gateway: 10% at once, 30% only after a person approves, once.

Replaces the test ``switchboard new-agent`` wrote, once the skill has its real steps. Its scenarios
run with ``switchboard skill test retention-offer``; here the specialist runs behind the real
gateway and reference systems, and what happened is read back from the gateway's audit log and
the billing system's own table.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from a2a.types import TaskState

from agents.retention import retention_offer
from mcp_servers.dataset import system_db_path
from orchestrator import registry
from shared.skills import MAX_EXAMPLES, MIN_EXAMPLES, load_skills
from tests.agents.real_gateway import AgentOnStack, agent_on_stack, staff

ON_ONE_STACK = pytest.mark.asyncio(loop_scope="module")  # the async tests share one stack

SKILL = "retention-offer"
DISCOUNT = "billing.apply_discount"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def retention(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("retention"), "retention") as running:
        yield running


def discounts(agent: AgentOnStack, msisdn: str) -> list[int]:
    """The percentages the billing system holds for ``msisdn``: what really happened."""
    with contextlib.closing(sqlite3.connect(system_db_path(agent.data_dir, "billing"))) as db:
        rows = db.execute("SELECT percent FROM discounts WHERE msisdn = ? ORDER BY created_at", (msisdn,))
        return [row[0] for row in rows]


def test_the_skill_is_declared_for_its_agent() -> None:
    skill = next(s for s in load_skills(agent="retention") if s.name == SKILL)
    assert MIN_EXAMPLES <= len(skill.examples) <= MAX_EXAMPLES
    assert skill.customer_label


def test_the_agent_may_call_every_tool_of_the_skill() -> None:
    assert set(retention_offer.TOOLS) <= set(registry.grants()["retention"])


@ON_ONE_STACK
async def test_ten_percent_is_applied_at_once(retention: AgentOnStack) -> None:
    who = retention.customers(3)[0]
    envelope = retention.envelope(who)
    offered = await retention.specialist.send("what do I get for staying?", SKILL, envelope=envelope)
    assert offered.state == TaskState.TASK_STATE_INPUT_REQUIRED and "10% off" in offered.text
    assert "Your contract runs until" in offered.text
    done = await retention.specialist.send("yes please", SKILL, task=offered, envelope=envelope)
    assert done.state == TaskState.TASK_STATE_COMPLETED and "Done: 10% off" in done.text
    calls = [c for c in retention.calls(envelope.conversation_id) if c.tool == DISCOUNT]
    assert [(c.decision, c.args["percent"]) for c in calls] == [("allow", 10)]
    assert discounts(retention, who["msisdn"]) == [10]


@ON_ONE_STACK
async def test_thirty_percent_waits_for_a_person_and_runs_once_approved(retention: AgentOnStack) -> None:
    who = retention.customers(3)[1]
    envelope = retention.envelope(who)
    offered = await retention.specialist.send("I'd stay for 30% off", SKILL, envelope=envelope)
    assert "30% off" in offered.text
    waiting = await retention.specialist.send("yes", SKILL, task=offered, envelope=envelope)
    assert waiting.state == TaskState.TASK_STATE_INPUT_REQUIRED and "needs a quick approval" in waiting.text
    held = [c for c in retention.calls(envelope.conversation_id) if c.tool == DISCOUNT]
    assert [(c.decision, c.args["percent"]) for c in held] == [("approval-required", 30)]
    assert discounts(retention, who["msisdn"]) == []

    pending = (await staff(retention, "approver", "GET", "/approvals?status=pending"))["approvals"]
    mine = [a for a in pending if a.get("conversation_id") == envelope.conversation_id]
    assert len(mine) == 1 and mine[0]["tool"] == DISCOUNT, pending
    await staff(retention, "approver", "POST", f"/approvals/{mine[0]['id']}/approve", {"note": "loyal customer"})
    assert discounts(retention, who["msisdn"]) == [30]

    done = await retention.specialist.send("approval executed", SKILL, task=waiting, envelope=envelope)
    assert done.state == TaskState.TASK_STATE_COMPLETED and "Done: 30% off" in done.text
    # The task's second delivery of the call got the approved result; nothing ran twice.
    assert discounts(retention, who["msisdn"]) == [30]


@ON_ONE_STACK
async def test_a_customer_who_still_leaves_is_handed_to_a_person(retention: AgentOnStack) -> None:
    who = retention.customers(3)[2]
    envelope = retention.envelope(who)
    offered = await retention.specialist.send("what do I get for staying?", SKILL, envelope=envelope)
    answer = await retention.specialist.send("no, I still want to leave", SKILL, task=offered, envelope=envelope)
    assert answer.state == TaskState.TASK_STATE_COMPLETED
    handoff = answer.result.handoff_to
    assert handoff is not None and (handoff.agent, handoff.skill) == ("escalation", "human-handoff")
    assert "still wants to leave" in handoff.reason and handoff.priority == "high"
    assert discounts(retention, who["msisdn"]) == []
