"""Escalation to a human, clarifying questions, and a sixth specialist learned from its card."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from a2a.helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from starlette.applications import Starlette

from orchestrator.launcher import Stack
from shared.handoff import RESULT_META_KEY, SpecialistResult
from shared.serving import bind, start, url_of
from tests.e2e.conftest import Chat, RunningStack, stack_settings

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_asking_for_a_human_creates_a_handoff_record(chat: Chat) -> None:
    reply = await chat.say("this is useless, get me a real person")
    assert reply["agent"] == "escalation" and reply["status"] == "escalated", reply
    assert reply["data"].get("handoff_id"), reply
    later = await chat.say("hello? anyone there?")
    assert later["status"] == "escalated"
    state = await chat.state()
    assert state["status"] == "escalated"


async def test_unclear_message_gets_a_clarifying_question(chat: Chat) -> None:
    reply = await chat.say("i need some help with something")
    assert reply["status"] == "clarify" and reply["agent"] is None, reply
    assert "?" in reply["reply"]


class _RewardsExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        result = SpecialistResult(status="completed", skill="rewards-advice", summary="explained rewards")
        message = new_text_message("Rewards points can be swapped for tickets.", context_id=context.context_id)
        message.metadata.update({RESULT_META_KEY: result.model_dump_json()})
        await event_queue.enqueue_event(message)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


# Something no built-in skill covers (roaming, which this once was, is support's now).
def _rewards_agent(url: str) -> Starlette:
    card = AgentCard(
        name="rewards",
        description="Loyalty rewards for customers: points and what they buy",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=f"{url}/a2a/jsonrpc", protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="rewards-advice",
                name="Rewards advice",
                description="Explain loyalty rewards: points earned, what they buy, swapping them for treats",
                tags=["rewards"],
                examples=[
                    "how many reward points have I got",
                    "can I swap my points for cinema tickets",
                    "what can I get with my loyalty points",
                    "redeem my rewards for a coffee voucher",
                    "when do my reward points expire",
                    "did I earn any points this month",
                ],
            )
        ],
    )
    handler = DefaultRequestHandler(agent_executor=_RewardsExecutor(), task_store=InMemoryTaskStore(), agent_card=card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/a2a/jsonrpc")])


async def test_a_sixth_specialist_is_routed_from_its_card_alone(tmp_path: Path) -> None:
    sock = bind()
    rewards_url = url_of(sock)
    rewards = await start("agent:rewards", _rewards_agent(rewards_url), sock)
    try:
        # Only configuration changes: the supervisor gets one more agent URL.
        settings = stack_settings(tmp_path).model_copy(update={"extra_agent_urls": [rewards_url]})
        stack = Stack(settings, ephemeral_ports=True)
        topology = await stack.start()
        try:
            async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
                agents = (await http.get("/api/agents")).json()
                assert any(a["name"] == "rewards" for a in agents)
                chat = await Chat(http, RunningStack(stack, topology, tmp_path)).start()
                reply = await chat.say("i've saved up loads of points, can i trade them for gig tickets?")
                if reply["agent"] is None:
                    # Six examples on a card leave the router unsure: it must offer the new skill by
                    # its name, and the customer's pick must reach the new agent.
                    assert "Rewards advice" in reply["reply"], reply
                    reply = await chat.say("rewards advice")
                assert reply["agent"] == "rewards", reply
                assert "Rewards" in reply["reply"]
        finally:
            await stack.stop()
    finally:
        await rewards.stop()
