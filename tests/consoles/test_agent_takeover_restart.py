"""A takeover lives in the conversation store: it survives a restart of every process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from orchestrator.launcher import Stack
from tests.consoles.agent_helpers import escalate, packet_of
from tests.consoles.conftest import StaffClient
from tests.e2e.conftest import Chat, RunningStack, stack_settings

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _agent(stack: Stack, http: httpx.AsyncClient) -> StaffClient:
    assert stack.secrets is not None
    name, token = stack.secrets.staff_token("agent")
    client = StaffClient(http)
    assert (await client.sign_in(name, token)).status_code == 303
    return client


async def test_a_taken_over_conversation_stays_with_the_human_across_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, data_dir)
        async with (
            httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http,
            httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as staff_http,
        ):
            chat = await Chat(http, running).start()
            await escalate(chat, "let me speak to a real person")
            agent = await _agent(stack, staff_http)
            base = f"/api/console/escalations/{chat.conversation_id}"
            assert (await agent.post(f"{base}/take-over")).status_code == 200
            assert (
                await agent.post(f"{base}/replies", json={"text": "I'm looking at your case now."})
            ).status_code == 201
            conversation, token = chat.conversation_id, chat.token
    finally:
        await stack.stop()

    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)  # every process anew, same data
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, data_dir)
        async with (
            httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http,
            httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as staff_http,
        ):
            chat = Chat(http, running)
            chat.conversation_id, chat.token = conversation, token
            still = await chat.say("thanks, I'll wait")
            assert still["status"] == "with-human" and still["reply"] == "", still
            # Staff sessions do not survive a restart (signing out is the safe failure); the case does.
            agent = await _agent(stack, staff_http)
            packet = await packet_of(agent, conversation)
            assert packet.human is not None and packet.human.name == agent.name
            assert [line.text for line in packet.transcript if line.role == "human"] == [
                "I'm looking at your case now."
            ]
            assert (await agent.post(f"/api/console/escalations/{conversation}/hand-back")).status_code == 200
            assert (await chat.say("what plans do you have?"))["agent"] is not None
    finally:
        await stack.stop()
