"""Opt-in: the LLM brain against a real local model behind an OpenAI-compatible server.

Runs only when a model is configured (``tests/llm/local_server.py``). With
``SWITCHBOARD_TEST_LOCAL_LLM=1`` the model (Gemma 3 270M, not instruction-tuned) is
too small to judge routing, so this checks the plumbing: requests reach it, answers are constrained
to the schema, governance holds whatever it says, and the customer gets a reply.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import Message, Part, Role, SendMessageRequest

from agents.runtime.llm import LLMSettings, allow_model_requests
from orchestrator.routing import LLMBrain, build_brain, skill_specs_from_skills
from shared.envelope import ENVELOPE_META_KEY
from shared.handoff import HANDOFF_META_KEY, HandoffRequest
from shared.llm.litellm_client import client_from_settings
from shared.service_auth.verifier import unverified_subject
from shared.skills import load_skills
from tests.agents.conftest import answer_of, verified_envelope
from tests.agents.fake_gateway import CUSTOMER, FakeGateway
from tests.llm.conftest import AUTHORITY, StartLLMSpecialist
from tests.llm.local_server import MODEL_NAME, LocalServer, configured, start
from tests.service_tokens import as_orchestrator

pytestmark = [pytest.mark.local_llm, pytest.mark.skipif(configured() is not None, reason=str(configured()))]

MODEL_TIMEOUT = 90.0
TOOL_STEPS = 2
# The whole turn's model work is bounded (steps x per-call time-out); the turn gets that and more,
# so no request is left running against the server when the test ends.
TURN_TIMEOUT = TOOL_STEPS * (MODEL_TIMEOUT + 1) + 120.0
MESSAGES = ["I was charged twice this month", "my internet keeps dropping", "can I see my last bill?"]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    # The default chat format, not chatml-function-calling: that one ignores max_tokens for plain
    # replies, and a pretrained model then generates until the context is full (many minutes).
    yield from start(tmp_path_factory.mktemp("model"))


def settings(base: str) -> LLMSettings:
    return LLMSettings(
        _env_file=None,
        model=MODEL_NAME,
        model_api_base=base,
        model_api_key="local",
        structured_output="json_object",
        model_stream_tools=False,
        model_timeout_seconds=MODEL_TIMEOUT,
        model_retries=0,
        router_min_confidence=0.0,
        model_max_tokens=64,
        # A CPU reads a prompt of a thousand tokens in seconds before it writes the first token.
        model_first_token_seconds=30.0,
        max_tool_steps=TOOL_STEPS,
    )


async def test_router_decisions_are_schema_valid(local_server: LocalServer) -> None:
    specs = skill_specs_from_skills(load_skills())
    brain = build_brain(specs, settings(local_server.base))
    assert isinstance(brain, LLMBrain)
    routes = {f"{s.agent}/{s.skill}" for s in specs}
    with allow_model_requests():
        decisions = [await brain.route(text) for text in MESSAGES]
        human = await brain.route("let me talk to a real person")
    from_model = [d for d in decisions if d.brain == f"llm:{MODEL_NAME}"]
    if not from_model:
        local_server.assert_alive("routing got no answer from the model")  # crashed or gone: say so
    assert from_model, [d.reason for d in decisions]  # the schema held at least once; the rest fell back
    for decision in decisions:
        assert f"{decision.agent}/{decision.skill}" in routes and 0.0 <= decision.confidence <= 1.0
    assert all(d.usage["prompt_tokens"] > 0 for d in from_model)
    assert (human.agent, human.brain) == ("escalation", "offline")  # a person is never up to the model


async def test_a_specialist_turn_is_governed_and_answered(
    local_server: LocalServer, start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    config = settings(local_server.base)
    model = client_from_settings("specialist", config)
    assert model is not None
    with allow_model_requests():  # the start-up probe asks the model too
        billing = await start_llm_specialist("billing", model, summary_model=model, llm_settings=config)
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text="why is my bill higher?")])
    message.metadata.update(
        {
            ENVELOPE_META_KEY: verified_envelope("conv-local-llm").model_dump_json(),
            HANDOFF_META_KEY: HandoffRequest(skill="explain-bill").model_dump_json(),
        }
    )
    try:
        with allow_model_requests():
            # The shared client and helper allow seconds; a CPU-bound model needs minutes.
            async with httpx.AsyncClient(timeout=TURN_TIMEOUT) as http, asyncio.timeout(TURN_TIMEOUT):
                config = ClientConfig(streaming=False, httpx_client=http)
                # With the orchestrator's token, as every caller of an agent must present one.
                async with await create_client(
                    billing.base_url, client_config=config, interceptors=as_orchestrator(AUTHORITY, "billing")
                ) as client:
                    events = [ev async for ev in client.send_message(SendMessageRequest(message=message))]
    except BaseException:
        why = local_server.failure()
        # A request still running on the server would keep this test's event loop from closing;
        # stopping the server ends it, so a failure is reported instead of hanging.
        local_server.stop()
        if why is not None:
            pytest.fail(f"the specialist turn failed: {why}")
        raise
    answer = answer_of(events[-1].task)
    result = answer.result
    assert answer.text.strip() and result.status in {"completed", "input-required"}
    local_server.assert_alive("the specialist turn")
    usage = result.data["llm_usage"]  # the model was asked, whatever it said
    assert usage["model"] == MODEL_NAME and usage["calls"] >= 1 and usage["prompt_tokens"] > 0
    # Governance: every call reached the gateway with billing's credential, the verified envelope and
    # the customer's own identifiers, whether the model or the fallback procedure made it.
    if result.data.get("llm_fallback"):
        assert gateway.calls  # the hand-written procedure read the bill through the gateway
    for call in gateway.calls:
        assert call.bearer and unverified_subject(call.bearer) == "billing" and call.envelope is not None
        assert call.envelope["conversation_id"] == "conv-local-llm"
        for key in set(call.args) & set(CUSTOMER):
            assert call.args[key] == CUSTOMER[key]
