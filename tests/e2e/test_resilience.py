"""Durable conversations across a full restart, and a dead downstream system."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from orchestrator.launcher import Stack
from tests.e2e.conftest import Chat, RunningStack, stack_settings

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_conversation_survives_stopping_every_process(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    stack = Stack(settings, ephemeral_ports=True)
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, tmp_path)
        customer = running.customers(1)[0]
        async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
            chat = await Chat(http, running).start()
            opened = await chat.verify(customer, "I want to switch to a different plan")
            assert opened["agent"] == "billing" and opened["status"] == "input-required", opened
            plans = opened["data"]["plans"]
            target = next(p for p in plans if p["plan_id"] != customer["plan_id"])
    finally:
        await stack.stop()

    # Every service is gone. Start them all again on the same data directory (new ports).
    stack = Stack(settings, ephemeral_ports=True)
    topology = await stack.start()
    try:
        running = RunningStack(stack, topology, tmp_path)
        async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
            resumed = Chat(http, running)
            resumed.conversation_id, resumed.token = chat.conversation_id, chat.token
            picked = await resumed.say(f"{target['name']} please")
            if picked["status"] == "input-required":
                picked = await resumed.say("yes")
            assert picked["agent"] == "billing" and picked["status"] == "completed", picked
            assert "identity" not in picked["handoffs"]
            state = await resumed.state()
            assert state["verified"] is True
            assert len(state["transcript"]) >= 8
    finally:
        await stack.stop()


async def test_dead_system_is_explained_and_escalation_offered(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(8)[7]
    await running.stack.stop_service("mcp:billing")
    try:
        reply = await chat.verify(customer, "why is my bill so high this month?")
        assert reply["agent"] == "billing" and reply["status"] == "failed", reply
        assert "connect you" in reply["reply"].lower()
        human = await chat.say("yes please")
        assert human["agent"] == "escalation" and human["status"] == "escalated", human
    finally:
        await running.stack.restart_service("mcp:billing")
    state = await chat.state()
    assert state["status"] == "escalated"
    assert state["verified"] is True


async def test_dead_specialist_is_explained_and_the_conversation_survives(chat: Chat, running: RunningStack) -> None:
    customer = running.customers(9)[8]
    await chat.verify(customer, "what did I pay last month?")
    await running.stack.stop_service("agent:support")
    try:
        down = await chat.say("my phone has had no signal since yesterday")
        assert down["agent"] == "support" and down["status"] == "unavailable", down
        assert "nothing you've told us is lost" in down["reply"].lower()
    finally:
        await running.stack.restart_service("agent:support")
    again = await chat.say("my phone has had no signal since yesterday")
    assert again["agent"] == "support" and again["status"] in ("completed", "input-required"), again
    assert "identity" not in again["handoffs"]


async def test_restarted_system_and_gateway_are_reconnected_under_a_conversation(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.customers(10)[9]
    first = await chat.verify(customer, "why is my bill so high this month?")
    assert first["agent"] == "billing" and first["status"] == "completed", first
    # Every connection into the billing system and the gateway dies with their processes.
    for service in ("mcp:billing", "gateway"):
        await running.stack.stop_service(service)
        await running.stack.restart_service(service)
    again = await chat.say("why is my bill so high this month?")
    assert again["agent"] == "billing" and again["status"] == "completed", again
    assert "answering" not in again["reply"].lower()
