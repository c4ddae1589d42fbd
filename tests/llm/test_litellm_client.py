"""The litellm client against an OpenAI-compatible server on loopback, and its safety rails."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.runtime.llm import ModelRequestsRefused, ModelUnavailable, ToolSpec, allow_model_requests
from shared.llm.litellm_client import LiteLLMClient
from shared.serving import serving
from tests.llm.provider import HANG, scripted_provider, streamed_or_whole


class FakeProvider:
    """Answers ``/v1/chat/completions`` with the next scripted body (or HTTP status)."""

    def __init__(self) -> None:
        self.answers: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.release = asyncio.Event()

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        answer = self.answers.pop(0)
        if answer == "hang":
            await self.release.wait()
        if isinstance(answer, int):
            # Some providers echo the credential they were sent; the client's log must not.
            echoed = f"boom for {request.headers.get('authorization')}"
            return JSONResponse({"error": {"message": echoed, "type": "server_error"}}, status_code=answer)
        return streamed_or_whole(body, answer)


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "local",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
    }


@pytest.fixture
async def provider() -> AsyncIterator[tuple[FakeProvider, str]]:
    fake = FakeProvider()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    async with serving(app, name="fake-provider") as url:
        yield fake, url + "/v1"
        fake.release.set()


def client(url: str, **options: Any) -> LiteLLMClient:
    return LiteLLMClient("openai/local", api_base=url, api_key="not-needed", retries=0, **options)


async def test_real_calls_are_refused_in_tests_without_opt_in(provider: tuple[FakeProvider, str]) -> None:
    fake, url = provider
    with pytest.raises(ModelRequestsRefused, match="refused inside a test"):
        await client(url).complete([{"role": "user", "content": "hi"}])
    assert fake.requests == []


async def test_structured_answer_and_usage(provider: tuple[FakeProvider, str]) -> None:
    fake, url = provider
    fake.answers.append(completion({"content": '{"route": "unclear"}'}))
    schema = {"type": "object", "properties": {"route": {"type": "string"}}}
    with allow_model_requests():
        answer = await client(url, structured_output="json_object").complete(
            [{"role": "user", "content": "hi"}], schema=schema
        )
    assert answer.text == '{"route": "unclear"}' and answer.model == "openai/local"
    assert (answer.usage.calls, answer.usage.prompt_tokens, answer.usage.completion_tokens) == (1, 42, 7)
    assert answer.usage.cost_usd == 0.0  # a self-hosted model has no price
    sent = fake.requests[0]
    assert sent["response_format"] == {"type": "json_object", "schema": schema}
    assert sent["temperature"] == 0.0


async def test_tool_calls_are_parsed(provider: tuple[FakeProvider, str]) -> None:
    fake, url = provider
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "billing__get_account", "arguments": '{"a": 1}'}},
        {"id": "c2", "type": "function", "function": {"name": "billing__list_plans", "arguments": "not json"}},
    ]
    fake.answers.append(completion({"content": None, "tool_calls": calls}))
    tool = ToolSpec("billing__get_account", "Account", {"type": "object", "properties": {}})
    with allow_model_requests():
        answer = await client(url).complete([{"role": "user", "content": "hi"}], tools=[tool])
    assert [(c.id, c.name, c.arguments) for c in answer.tool_calls] == [
        ("c1", "billing__get_account", {"a": 1}),
        ("c2", "billing__list_plans", None),
    ]
    assert fake.requests[0]["tools"][0]["function"]["name"] == "billing__get_account"
    assert fake.requests[0]["tool_choice"] == "auto"  # llama.cpp servers offer tools only when asked


async def test_provider_errors_become_model_unavailable(
    provider: tuple[FakeProvider, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = provider
    fake.answers.append(500)
    with (
        caplog.at_level(logging.WARNING, logger="shared.llm.litellm_client"),
        allow_model_requests(),
        pytest.raises(ModelUnavailable, match="failed") as raised,
    ):
        await client(url).complete([{"role": "user", "content": "hi"}])
    assert "boom" not in str(raised.value)  # the caller gets the class name, never the provider's text
    # The log names the error and what the provider said, so a failure says what it was; the key is masked.
    logged = [r.getMessage() for r in caplog.records if "failed:" in r.getMessage()]
    assert len(logged) == 1 and "boom for Bearer ***" in logged[0], logged
    assert "not-needed" not in logged[0]


async def test_a_slow_provider_times_out(provider: tuple[FakeProvider, str]) -> None:
    fake, url = provider
    fake.answers.append("hang")
    with allow_model_requests(), pytest.raises(ModelUnavailable):
        await client(url, timeout_seconds=0.5).complete([{"role": "user", "content": "hi"}])


def test_offline_brain_never_imports_litellm() -> None:
    # A fresh interpreter, so nothing another test imported counts. It starts as a deployment does,
    # with a weight cache: the suite's (tests/conftest.py), which spares it training the skills again.
    code = (
        "import sys\n"
        "from orchestrator.routing import build_brain, skill_specs_from_skills\n"
        "from agents.runtime.llm import LLMSettings\n"
        "from shared.settings import Settings\n"
        "from shared.skills import load_skills\n"
        "specs = skill_specs_from_skills(load_skills())\n"
        "build_brain(specs, LLMSettings(_env_file=None, model=None), cache_dir=Settings().cache_dir)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'openai'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout) == []


async def test_an_abandoned_request_is_closed_at_the_server_and_never_retried() -> None:
    # A one-at-a-time server must not keep writing an answer nobody reads, nor find a retry queued
    # behind it: the client streams, hangs up when its time is up, and does not try again.
    async with scripted_provider(lambda seen: HANG) as provider:
        slow = LiteLLMClient("openai/local", api_base=provider.url, api_key="x", retries=1, timeout_seconds=30)
        with allow_model_requests(), pytest.raises(ModelUnavailable, match="did not answer in time"):
            await slow.complete([{"role": "user", "content": "hi"}], timeout_seconds=1.5, max_tokens=32)
        async with asyncio.timeout(20):
            await provider.hung_up.wait()  # the server saw the connection close
        assert provider.abandoned == 1 and len(provider.requests) == 1
        assert provider.requests[0].body["stream"] is True and provider.requests[0].body["max_tokens"] == 32
