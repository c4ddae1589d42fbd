"""The LLM brain against the real gateway: it is offered only what policy grants, and no more."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.runtime.gateway import GatewayClient
from agents.runtime.llm import ScriptedModel, reply
from agents.runtime.llm.loop import LLMSpecialist
from agents.runtime.llm.skills import skill_guide
from agents.runtime.llm.tools import Toolbox
from agents.runtime.turn import Turn
from agents.support import create as create_support
from orchestrator import registry
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from shared.handoff import HandoffRequest
from shared.service_auth import BearerAuth, audiences
from shared.skills import load_skills
from tests.e2e.conftest import RunningStack, running

__all__ = ["running"]
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# What the Cedar policies grant, as the gateway computes it (orchestrator/registry.py).
GRANTS = {agent: set(tools) for agent, tools in registry.grants().items() if agent in ("billing", "escalation")}


def toolbox(running: RunningStack, agent: str) -> Toolbox:
    auth = BearerAuth(running.stack.service_auth(agent).tokens, audiences.GATEWAY)
    return Toolbox(running.topology.gateway_mcp_url(), auth=auth, timeout_seconds=10)


@pytest.mark.parametrize("agent", sorted(GRANTS))
async def test_the_model_is_offered_exactly_the_granted_tools(running: RunningStack, agent: str) -> None:
    tools = await toolbox(running, agent).tools()
    assert {t.catalog_name for t in tools.values()} == GRANTS[agent]
    assert not [t.catalog_name for t in tools.values() if t.catalog_name.startswith("payments.")]
    for tool in tools.values():
        assert not {"email", "msisdn", "account_number", "customer_id"} & set(tool.spec.parameters["properties"])


async def test_a_forged_identity_is_refused_whatever_the_model_asks(running: RunningStack) -> None:
    customer = running.customers(30)[-1]
    auth = BearerAuth(running.stack.service_auth("support").tokens, audiences.GATEWAY)
    gateway = GatewayClient(running.topology.gateway_mcp_url(), auth=auth)
    guides = {s.name: skill_guide(s) for s in load_skills(agent="support")}
    model = ScriptedModel.of(
        reply("", ("payments__issue_refund", {"amount": 500}), ("network__get_line_status", {})),
        reply("", ("answer_customer", {"text": "All good", "status": "completed"})),
    )
    specialist = LLMSpecialist("support", create_support(), guides, model, toolbox(running, "support"))
    envelope = ContextEnvelope(
        conversation_id="llm-forged-1",
        customer=CustomerRef(keys=CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn")})),
        auth_context="eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJtZSJ9.Zm9yZ2Vk",
    )
    turn = Turn(
        "my line is down", envelope, HandoffRequest(skill="ticket-status"), gateway, agent="support", task_id="t-1"
    )
    specialist.compile(InMemorySaver())
    try:
        outcome = await specialist.run("ticket-status", turn, thread="t-1", context_id="llm-forged-1", resume=False)
    finally:
        await gateway.aclose()
    result = outcome.reply
    # The unlisted refund goes to the gateway, which refuses it; the turn ends there, plainly.
    assert [(c.tool, c.decision) for c in turn.tool_calls] == [("payments.issue_refund", "deny")]
    assert result.result.data["denied"] is True and "All good" not in result.text
