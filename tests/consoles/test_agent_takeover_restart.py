"""A take-over lives in the conversation store, but its lease ends with the holder's session.

Staff sessions do not survive a restart of the embedded orchestrator (signing everyone out is
the safe failure), so after a restart the case is back in the queue for whoever signs in next,
with the human's replies intact.
"""

from __future__ import annotations

import httpx
import pytest

from orchestrator.launcher import Stack
from shared.escalation import EscalationQueue
from tests.consoles.agent_helpers import escalate, packet_of, queue_item
from tests.consoles.conftest import StaffClient, team_data_dir
from tests.e2e.conftest import Chat, RunningStack, stack_settings

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _agent(stack: Stack, http: httpx.AsyncClient, name: str) -> StaffClient:
    assert stack.secrets is not None
    token = stack.secrets.staff_tokens[name].token
    client = StaffClient(http)
    assert (await client.sign_in(name, token)).status_code == 303
    return client


async def test_after_a_restart_the_case_waits_for_the_next_agent_with_its_history(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = team_data_dir(tmp_path_factory)
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
            agent = await _agent(stack, staff_http, "ben")
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
            assert still["status"] == "escalated" and "You're number 1 in the queue" in still["reply"], still
            agent = await _agent(stack, staff_http, "cleo")
            queue = EscalationQueue.model_validate((await agent.get("/api/console/escalations")).json())
            item = queue_item(queue, conversation)
            assert (item.state, item.position, item.taken_by) == ("returned", 1, None)
            assert (await agent.post(f"/api/console/escalations/{conversation}/take-over")).status_code == 200
            packet = await packet_of(agent, conversation)
            assert packet.human is not None and packet.human.name == "cleo"
            assert [line.text for line in packet.transcript if line.role == "human"] == [
                "I'm looking at your case now."
            ]
            assert packet.waiting_seconds > 0 and packet.case_log[-2].action == "lapsed"
            assert (await agent.post(f"/api/console/escalations/{conversation}/hand-back")).status_code == 200
            assert (await chat.say("what plans do you have?"))["agent"] is not None
    finally:
        await stack.stop()
