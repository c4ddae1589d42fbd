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


class _RoamingExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        result = SpecialistResult(status="completed", skill="roaming-advice", summary="gave roaming advice")
        message = new_text_message("Roaming in the EU is included on most plans.", context_id=context.context_id)
        message.metadata.update({RESULT_META_KEY: result.model_dump_json()})
        await event_queue.enqueue_event(message)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def _travel_agent(url: str) -> Starlette:
    card = AgentCard(
        name="travel",
        description="Advice for customers travelling abroad",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=f"{url}/a2a/jsonrpc", protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="roaming-advice",
                name="Roaming advice",
                description="Explain roaming abroad: costs, turning roaming on, using the phone on holiday",
                tags=["travel"],
                examples=[
                    "I'm going to Spain next week, will my phone work there?",
                    "how much does roaming cost in France",
                    "travelling abroad, do I need to switch roaming on",
                    "using my mobile on holiday in Italy",
                    "will I be charged for data in Germany",
                    "going on a trip to the USA, can I use my phone",
                ],
            )
        ],
    )
    handler = DefaultRequestHandler(agent_executor=_RoamingExecutor(), task_store=InMemoryTaskStore(), agent_card=card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/a2a/jsonrpc")])


async def test_a_sixth_specialist_is_routed_from_its_card_alone(tmp_path: Path) -> None:
    sock = bind()
    travel_url = url_of(sock)
    travel = await start("agent:travel", _travel_agent(travel_url), sock)
    try:
        # Only configuration changes: the supervisor gets one more agent URL.
        settings = stack_settings(tmp_path).model_copy(update={"extra_agent_urls": [travel_url]})
        stack = Stack(settings, ephemeral_ports=True)
        topology = await stack.start()
        try:
            async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
                agents = (await http.get("/api/agents")).json()
                assert any(a["name"] == "travel" for a in agents)
                chat = await Chat(http, RunningStack(stack, topology, tmp_path)).start()
                reply = await chat.say("I'm flying to Portugal on holiday, will my mobile work over there?")
                assert reply["agent"] == "travel", reply
                assert "Roaming" in reply["reply"]
        finally:
            await stack.stop()
    finally:
        await travel.stop()
