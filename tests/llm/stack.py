"""The whole stack configured with a model the way a user does it: ``SWITCHBOARD_*`` settings.

The model names are real litellm names (so litellm prices the calls); the base URL points at a
``ScriptedProvider`` on loopback, which plays a competent model until a test swaps its script.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cache

import httpx
import pytest
import pytest_asyncio

from agents.runtime.llm import allow_model_requests
from orchestrator.launcher import Stack
from orchestrator.routing import OfflineBrain, skill_specs_from_skills
from shared.settings import Settings
from shared.skills import load_skills
from tests.e2e.conftest import Chat, RunningStack, stack_settings
from tests.llm.provider import ScriptedProvider, Seen, answer, say, scripted_provider

ROUTER_MODEL = "openai/gpt-4o-mini"
MODEL = "openai/gpt-4o"
TIMEOUT_SECONDS = 8.0
PHRASED = "Of course. "
SUMMARY = "The customer wants a person; nothing is pending."
LOOP_ANSWER = "I've checked your account and everything is in order."


@cache
def _offline() -> OfflineBrain:
    # Built before the stack starts (llm_running): trained inside a routing request, it would take
    # longer than the model time-out on a busy machine. The shared weight cache makes it quick.
    return OfflineBrain.from_skills(skill_specs_from_skills(load_skills()), cache_dir=Settings().cache_dir)


def competent(seen: Seen) -> dict:
    """A well-behaved model: routes as the offline brain would, re-phrases drafts, answers loops."""
    if seen.kind == "route":
        decision = _offline().decide(seen.customer_text)
        sure = decision.agent is not None and decision.confidence >= 0.45
        route = f"{decision.agent}/{decision.skill}" if sure else "unclear"
        reason = f"the customer's goal is {decision.skill}" if sure else "no goal in this message"
        return say(json.dumps({"route": route, "confidence": decision.confidence, "reason": reason}))
    if seen.kind == "phrase":
        return say(PHRASED + seen.draft)
    if seen.kind == "summary":
        return say(SUMMARY)
    return answer(LOOP_ANSWER)


def model_env(provider: ScriptedProvider) -> dict[str, str]:
    """What an operator sets: a cheap router, a stronger model for the rest, one base URL."""
    return {
        "SWITCHBOARD_MODEL": MODEL,
        "SWITCHBOARD_ROUTER_MODEL": ROUTER_MODEL,
        "SWITCHBOARD_MODEL_API_BASE": provider.url,
        "SWITCHBOARD_MODEL_API_KEY": "sk-test-not-a-real-key",
        "SWITCHBOARD_MODEL_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "SWITCHBOARD_MODEL_RETRIES": "0",
    }


@dataclass
class LLMRunning:
    running: RunningStack
    provider: ScriptedProvider


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def llm_running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LLMRunning]:
    data_dir = tmp_path_factory.mktemp("switchboard-llm-data")
    _offline()
    async with scripted_provider(competent) as provider:
        stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
        # Model settings are read once, when each service starts; the environment is restored after.
        with pytest.MonkeyPatch.context() as env:
            for name in ("SWITCHBOARD_SPECIALIST_MODEL", "SWITCHBOARD_SUMMARY_MODEL"):
                env.delenv(name, raising=False)
            for name, value in model_env(provider).items():
                env.setenv(name, value)
            topology = await stack.start()
        try:
            yield LLMRunning(RunningStack(stack, topology, data_dir), provider)
        finally:
            await stack.stop()


@pytest.fixture
def model_calls_allowed() -> Iterator[None]:
    """These tests opt in to model calls: the only model is the scripted provider on loopback."""
    with allow_model_requests():
        yield


@pytest_asyncio.fixture(loop_scope="session")
async def llm_chat(llm_running: LLMRunning, model_calls_allowed: None) -> AsyncIterator[Chat]:
    """A new conversation on the model-configured stack, with the competent script restored."""
    llm_running.provider.script = competent
    llm_running.provider.requests.clear()
    async with httpx.AsyncClient(base_url=llm_running.running.topology.orchestrator, timeout=60) as http:
        yield await Chat(http, llm_running.running).start()
