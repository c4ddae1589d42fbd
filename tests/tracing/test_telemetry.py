"""Turning tracing on and off, the OTLP endpoint settings, and W3C context in and out of spans."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import telemetry
from shared.errors import ConfigurationError
from shared.tracing import TraceContext
from tests.tracing.conftest import OtlpReceiver, parent_id, span_id, trace_id


def test_endpoint_settings() -> None:
    assert telemetry.endpoint_from_env({}) is None
    base = {"SWITCHBOARD_OTLP_ENDPOINT": "http://collector:4318"}
    assert telemetry.endpoint_from_env(base) == "http://collector:4318/v1/traces"
    assert telemetry.endpoint_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    exact = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c.example/otlp/traces"}
    assert telemetry.endpoint_from_env(exact) == "https://c.example/otlp/traces"
    # Switchboard's own setting wins over the standard ones.
    both = {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"}
    assert telemetry.endpoint_from_env(both) == "http://collector:4318/v1/traces"
    assert telemetry.endpoint_from_env({"SWITCHBOARD_OTLP_ENDPOINT": " "}) is None


def test_a_bad_endpoint_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="is not an http") as caught:
        telemetry.endpoint_from_env({"SWITCHBOARD_OTLP_ENDPOINT": "collector:4318"})
    assert caught.value.hint and "4318" in caught.value.hint
    telemetry.disable()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector")
    with pytest.raises(ConfigurationError):
        telemetry.configure("switchboard")
    assert not telemetry.enabled()


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    telemetry.disable()
    for name in ("SWITCHBOARD_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert telemetry.configure("switchboard") is False
    assert not telemetry.enabled()
    with telemetry.span("customer_turn") as span:
        assert span is None
        assert telemetry.trace_context() is None
    assert telemetry.extract({"traceparent": TraceContext.new().traceparent}) is None


def test_spans_carry_their_w3c_context_and_nest(spans: InMemorySpanExporter) -> None:
    with telemetry.span("outer", kind=telemetry.SpanKind.SERVER, attributes={"a": 1, "skip": None}) as outer:
        assert outer is not None
        context = telemetry.trace_context(outer)
        assert context is not None
        with telemetry.span("inner") as inner:
            telemetry.set_attributes(inner, {"switchboard.governance.policy_ids": ["p1", "p2"], "none": None})
            telemetry.set_error(inner, "denied", "no grant")
    inner_span, outer_span = spans.get_finished_spans()
    assert context.trace_id == trace_id(outer_span) and context.span_id == span_id(outer_span)
    assert parent_id(inner_span) == span_id(outer_span)
    assert dict(outer_span.attributes or {}) == {"a": 1}
    assert inner_span.attributes is not None
    assert list(inner_span.attributes["switchboard.governance.policy_ids"]) == ["p1", "p2"]  # type: ignore[arg-type]
    assert "none" not in inner_span.attributes and inner_span.attributes["error.type"] == "denied"
    assert inner_span.status.description == "no grant"


def test_a_remote_parent_comes_from_w3c_keys_and_bad_ones_are_ignored(spans: InMemorySpanExporter) -> None:
    caller = TraceContext.new()
    with telemetry.span("child", parent=telemetry.extract(caller.carrier())):
        pass
    with telemetry.span("from-envelope", parent=telemetry.parent_of(caller)):
        pass
    for bad in (
        {},
        {"traceparent": "not-a-traceparent"},
        {"tracestate": "a=b"},
        {"traceparent": "00-" + "0" * 32 + "-" + "0" * 16 + "-01"},
    ):
        assert telemetry.extract(bad) is None
    child, from_envelope = spans.get_finished_spans()
    for s in (child, from_envelope):
        assert trace_id(s) == caller.trace_id and parent_id(s) == caller.span_id
        assert s.parent is not None and s.parent.is_remote


def test_tracestate_travels_with_the_trace(spans: InMemorySpanExporter) -> None:
    caller = TraceContext(traceparent=TraceContext.new().traceparent, tracestate="vendor=abc")
    assert caller.carrier() == {"traceparent": caller.traceparent, "tracestate": "vendor=abc"}
    with telemetry.span("child", parent=telemetry.parent_of(caller)) as span:
        here = telemetry.trace_context(span)
    assert here is not None and here.tracestate == "vendor=abc" and here.trace_id == caller.trace_id


def test_disable_stops_recording_and_the_a2a_sdk_internals_stay_quiet(spans: InMemorySpanExporter) -> None:
    with trace_api.get_tracer("a2a-python-sdk").start_as_current_span("a2a internals"):
        pass
    with trace_api.get_tracer("mcp-python-sdk").start_as_current_span("MCP send tools/call x"):
        pass
    assert [s.name for s in spans.get_finished_spans()] == ["MCP send tools/call x"]
    telemetry.disable()
    with trace_api.get_tracer("mcp-python-sdk").start_as_current_span("after") as after:
        assert not after.is_recording()
    assert [s.name for s in spans.get_finished_spans()] == ["MCP send tools/call x"]


async def test_otlp_export_over_http_when_an_endpoint_is_set(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    telemetry.disable()
    monkeypatch.setenv("SWITCHBOARD_OTLP_ENDPOINT", otlp_receiver.url)
    try:
        assert telemetry.configure("switchboard-unit")
        with telemetry.span("customer_turn", attributes={"gen_ai.conversation.id": "conv-1"}) as span:
            context = telemetry.trace_context(span)
        # Disabling flushes the batch with a blocking POST: off this loop, which serves the receiver.
        await asyncio.to_thread(telemetry.disable)
        async with asyncio.timeout(30):
            await otlp_receiver.arrived.wait()
    finally:
        telemetry.disable()
    assert context is not None
    (received,) = otlp_receiver.spans
    # The service name is the first one configured in this process (OpenTelemetry allows one provider).
    assert received.service.startswith("switchboard")
    assert (received.name, received.trace_id) == ("customer_turn", context.trace_id)
    assert received.attributes == {"gen_ai.conversation.id": "conv-1"}


def test_the_genai_provider_name_follows_the_conventions() -> None:
    from shared.llm.litellm_client import provider_name

    assert [provider_name(m) for m in ("gpt-4o-mini", "ollama/llama3.2", "bedrock/anthropic.claude", "gemini/x")] == [
        "openai",
        "ollama",
        "aws.bedrock",
        "gcp.gemini",
    ]


def test_spans_carry_the_service_that_made_them(spans: InMemorySpanExporter) -> None:
    with telemetry.service("switchboard-gateway"), telemetry.span("governance.decide"):
        pass
    with telemetry.span("outside any service"):
        pass
    by_name = {s.name: s.resource.attributes.get("service.name") for s in spans.get_finished_spans()}
    assert by_name["governance.decide"] == "switchboard-gateway"
    assert by_name["outside any service"] != "switchboard-gateway"
