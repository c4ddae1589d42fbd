"""The same promise over real A2A: a specialist's hold carries its skill's words to the customer.

A one-skill specialist runs on the agents runtime (``SpecialistExecutor``, a LangGraph skill
graph, the SDK's request handler) on a loopback socket; the supervisor discovers it from its
AgentCard. Only the tool call is left out: the skill answers as a held discount would.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from starlette.applications import Starlette

from agents.runtime.card import build_card
from agents.runtime.checkpoints import open_checkpointer
from agents.runtime.executor import SpecialistExecutor
from agents.runtime.graph import SkillGraphs
from agents.runtime.steps import one_step
from agents.runtime.turn import Reply, Turn
from orchestrator.conversations import SqliteConversationStore
from orchestrator.routing import RouteDecision
from orchestrator.specialists import SpecialistDirectory
from orchestrator.supervisor import Supervisor
from shared.settings import A2A_JSONRPC_PATH
from shared.skill_messages import skill_messages
from shared.skills import Skill
from tests.governance.conftest import AUTHORITY, Servers, tcp_socket, url_of

SKILL_MD = """# Retention offer

## Procedure
1. Offer a loyalty discount with `billing.apply_discount`.

## Messages
- waiting: Your loyalty discount is waiting for a colleague's approval.
- approved: Good news: your loyalty discount is now on your account{reference}.
- rejected: I'm sorry, our team couldn't approve the discount, so your price stays as it is.

## Examples
- I want to cancel my contract
"""


def _skill(tmp_path: Path) -> Skill:
    return Skill(
        name="retention-offer",
        description="Keep a customer who wants to cancel with an offer.",
        agent="retention",
        version="1.0",
        tags=(),
        examples=("I want to cancel my contract",),
        body=SKILL_MD,
        path=tmp_path / "retention-offer" / "SKILL.md",
        customer_label="cancelling your contract",
    )


async def _offer(turn: Turn) -> Reply:
    # What a skill answers when the gateway held billing.apply_discount for a human.
    return turn.reply(
        "A 30% discount needs a quick approval from our team; I'll tell you here.",
        "completed",
        summary="billing.apply_discount awaits approval",
        data={"approval_pending": True, "approval_id": "APR-RETAIN1"},
    )


def _retention_app(skill: Skill, public_url: str, data_dir: Path) -> Starlette:
    runner = SkillGraphs({skill.name: one_step(_offer)})
    executor = SpecialistExecutor(
        "retention",
        runner,
        [skill.name],
        gateway=None,  # type: ignore[arg-type]  # the skill above calls no tool
        messages={skill.name: skill_messages(skill)},
    )
    card = build_card(
        "retention", description="Retention", public_url=public_url, skills=[skill], token_url=public_url + "/token"
    )
    handler = DefaultRequestHandler(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with open_checkpointer(None, data_dir) as saver:
            runner.compile(saver)
            yield

    routes = [*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url=A2A_JSONRPC_PATH)]
    return Starlette(routes=routes, lifespan=lifespan)


class ToRetention:
    async def route(self, text: str) -> RouteDecision:
        return RouteDecision(agent="retention", skill="retention-offer", confidence=0.9, reason="cancel")


async def test_a_held_discount_is_announced_in_the_skills_words_over_a2a(tmp_path: Path) -> None:
    skill = _skill(tmp_path)
    sock = tcp_socket()
    servers = Servers()
    await servers.start(_retention_app(skill, url_of(sock), tmp_path), sock)
    directory = await SpecialistDirectory.discover([url_of(sock)], tokens=AUTHORITY.auth("orchestrator").tokens)
    store = await SqliteConversationStore.open(tmp_path / "conversations.db")
    try:
        supervisor = Supervisor(store, directory, ToRetention())
        state, _ = await supervisor.start()
        held = await supervisor.turn(state.conversation_id, "I want to cancel my contract")
        assert held.reply.startswith("A 30% discount needs a quick approval")
        waiting = await supervisor.turn(state.conversation_id, "is it done yet?")
        assert waiting.reply == "Your loyalty discount is waiting for a colleague's approval."

        assert await supervisor.resolve_approval(
            "APR-RETAIN1", state.conversation_id, "executed", {"discount_id": "DSC-9"}
        )
        transcript = await store.transcript(state.conversation_id)
        told = [e.text for e in transcript if e.role == "agent"][-1]
        assert told == "Good news: your loyalty discount is now on your account (reference DSC-9)."
    finally:
        await store.close()
        await directory.close()
        await servers.stop_all()
        sock.close()
