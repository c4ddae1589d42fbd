"""Single hops: a specialist joins the caller's trace from the A2A metadata; a model call reports usage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agents.runtime.llm import allow_model_requests
from shared.envelope import ENVELOPE_META_KEY
from shared.handoff import HANDOFF_META_KEY, HandoffRequest
from shared.llm.litellm_client import LiteLLMClient
from shared.serving import serving
from shared.tracing import TraceContext
from tests.agents.conftest import StartSpecialist, gateway, stack, start_specialist, verified_envelope
from tests.llm.provider import streamed_or_whole
from tests.tracing.conftest import parent_id, span_id, trace_id

__all__ = ["gateway", "stack", "start_specialist"]


async def test_the_specialist_span_continues_the_trace_in_the_a2a_metadata(
    spans: InMemorySpanExporter, start_specialist: StartSpecialist
) -> None:
    payment = await start_specialist("payment")
    caller = TraceContext.new()
    envelope = verified_envelope("conv-trace").model_copy(update={"trace": TraceContext.new()})
    handoff = HandoffRequest(skill="payment-history", reason="the customer asked")
    metadata = {ENVELOPE_META_KEY: envelope.model_dump_json(), HANDOFF_META_KEY: handoff.model_dump_json()}

    answer = await payment.send_metadata("show my payments", {**metadata, **caller.carrier()})
    assert answer.result.status == "completed", answer
    # Without the W3C keys the envelope's trace context is the parent.
    await payment.send_metadata("show my payments", metadata)

    servers = [s for s in spans.get_finished_spans() if s.name == "invoke_agent payment"]
    assert [s.kind for s in servers] == [SpanKind.SERVER, SpanKind.SERVER]
    from_metadata, from_envelope = servers
    assert (trace_id(from_metadata), parent_id(from_metadata)) == (caller.trace_id, caller.span_id)
    assert (trace_id(from_envelope), parent_id(from_envelope)) == (envelope.trace.trace_id, envelope.trace.span_id)
    assert from_metadata.attributes is not None
    assert from_metadata.attributes["gen_ai.agent.name"] == "payment"
    assert from_metadata.attributes["gen_ai.conversation.id"] == "conv-trace"
    assert from_metadata.attributes["switchboard.handoff.status"] == "completed"
    # The specialist's governed tool calls hang off its span, the MCP client's span under each.
    tools = [s for s in spans.get_finished_spans() if s.name.startswith("execute_tool ")]
    assert tools and all(parent_id(t) == span_id(from_metadata) for t in tools if trace_id(t) == caller.trace_id)
    sends = [s for s in spans.get_finished_spans() if s.name.startswith("MCP send tools/call")]
    assert {parent_id(s) for s in sends} <= {span_id(t) for t in tools}
    assert tools[0].attributes is not None and tools[0].attributes["switchboard.tool.outcome"] == "ok"


def _completion(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "local",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@pytest.fixture
async def provider() -> AsyncIterator[str]:
    """An OpenAI-compatible endpoint on loopback that reports token usage."""

    async def completions(request: Request) -> Response:
        # Model calls are streamed (so an abandoned one can be closed); answer as asked.
        return streamed_or_whole(await request.json(), _completion(31, 5))

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    async with serving(app, name="fake-provider") as url:
        yield url + "/v1"


async def test_a_model_call_span_reports_the_model_and_its_token_usage(
    spans: InMemorySpanExporter, provider: str
) -> None:
    model = LiteLLMClient("openai/local", api_base=provider, api_key="not-needed", retries=0)
    with allow_model_requests():
        reply = await model.complete([{"role": "user", "content": "hi"}])
    assert reply.text == "hello"
    (call,) = [s for s in spans.get_finished_spans() if s.name == "chat openai/local"]
    assert call.kind is SpanKind.CLIENT
    assert dict(call.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "openai/local",
        "gen_ai.usage.input_tokens": 31,
        "gen_ai.usage.output_tokens": 5,
    }
