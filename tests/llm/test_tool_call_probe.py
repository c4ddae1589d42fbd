"""A model server that cannot make tool calls is found at start-up, reported with the fix, and
never answers customers with its raw text: the skills run their procedures instead."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agents.runtime.llm import LLMSettings, ScriptedModel, allow_model_requests, reply
from shared.llm.litellm_client import LiteLLMClient
from shared.llm.probe import FIX, probe_tool_calls
from shared.serving import serving
from tests.agents.fake_gateway import FakeGateway
from tests.llm.conftest import StartLLMSpecialist
from tests.llm.provider import streamed_or_whole

PROMPT_ECHO = "<<SYS>> You are being checked. Call the function report_ready [/INST]"


def _completion(message: dict) -> dict:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "local",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


@pytest.fixture
async def text_only_server() -> AsyncIterator[str]:
    """An OpenAI-compatible server whose chat format drops the tools: it echoes its prompt as text."""

    async def completions(request: Request) -> Response:
        return streamed_or_whole(await request.json(), _completion({"content": PROMPT_ECHO}))

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    async with serving(app, name="text-only-model") as url:
        yield url + "/v1"


async def test_a_server_that_ignores_tools_is_reported_with_the_fix(text_only_server: str) -> None:
    client = LiteLLMClient("openai/local", api_base=text_only_server, api_key="not-needed", retries=0)
    with allow_model_requests():
        result = await probe_tool_calls(client, timeout_seconds=20)
    assert result.outcome == "text-only"
    assert FIX in result.detail and "--jinja" in result.detail and "chatml-function-calling" in result.detail


async def test_an_unreachable_server_is_not_mistaken_for_one_without_tools() -> None:
    client = LiteLLMClient("openai/local", api_base="http://127.0.0.1:9/v1", api_key="x", retries=0)
    with allow_model_requests():
        result = await probe_tool_calls(client, timeout_seconds=5)
    assert result.outcome == "unknown" and "did not answer" in result.detail


async def test_a_specialist_whose_model_cannot_call_tools_uses_its_procedures(
    start_llm_specialist: StartLLMSpecialist, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    model = ScriptedModel.of(then=reply(PROMPT_ECHO))  # text for everything, tools ignored
    settings = LLMSettings(_env_file=None, model=None, tool_call_probe=True)
    with caplog.at_level(logging.ERROR):
        billing = await start_llm_specialist("billing", model, llm_settings=settings)
        result = await billing.send("why is my bill higher?", "explain-bill")
    assert any("cannot make tool calls" in r.getMessage() and FIX in r.getMessage() for r in caplog.records)
    assert "SYS" not in result.text and "INST" not in result.text and result.text.strip()
    assert result.result.data["llm_no_tool_calls"] is True
    assert "billing.list_invoices" in [c.tool for c in gateway.calls]  # the procedure did the work


@pytest.fixture
async def whole_tools_only_server() -> AsyncIterator[str]:
    """Like llama-cpp-python's chatml-function-calling: a tool call only when asked for whole.

    Streamed, an automatic tool choice raises inside the server, and the stream carries only a ping.
    """

    async def completions(request: Request) -> Response:
        body = await request.json()
        if body.get("stream"):
            return Response(": ping - 2026-12-05 10:59:53\n\n", media_type="text/event-stream")
        call = {
            "id": "call-1",
            "type": "function",
            "function": {"name": "report_ready", "arguments": '{"ready": true}'},
        }
        return streamed_or_whole(body, _completion({"content": None, "tool_calls": [call]}))

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    async with serving(app, name="whole-tools-model") as url:
        yield url + "/v1"


async def test_a_server_that_cannot_stream_tool_calls_is_told_apart_and_can_be_asked_whole(
    whole_tools_only_server: str,
) -> None:
    streamed = LiteLLMClient("openai/local", api_base=whole_tools_only_server, api_key="x", retries=0)
    whole = LiteLLMClient("openai/local", api_base=whole_tools_only_server, api_key="x", retries=0, stream_tools=False)
    with allow_model_requests():
        refused = await probe_tool_calls(streamed, timeout_seconds=20)
        passed = await probe_tool_calls(whole, timeout_seconds=20)
    assert refused.outcome == "text-only" and "SWITCHBOARD_MODEL_STREAM_TOOLS=false" in refused.detail, refused
    assert passed.outcome == "calls-tools", passed
