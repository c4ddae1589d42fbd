"""Fixtures for the tracing tests: an in-memory exporter for this process, a real OTLP/HTTP receiver."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared import telemetry
from shared.serving import serving


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process for one test, every finished span kept in memory."""
    telemetry.disable()
    exporter = InMemorySpanExporter()
    assert telemetry.configure("switchboard-test", exporter=exporter, batch=False)
    try:
        yield exporter
    finally:
        telemetry.disable()


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as an OTLP receiver decoded it from the wire."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, object]


@dataclass
class OtlpReceiver:
    """A minimal OTLP/HTTP trace receiver (protobuf), as a collector would run it."""

    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def export(self, request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if request.headers.get("content-type") != "application/x-protobuf":
            return Response("send application/x-protobuf", status_code=415)
        decoded = ExportTraceServiceRequest.FromString(body)
        for resource_spans in decoded.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=resource.get("service.name", ""),
                            name=s.name,
                            kind=s.kind,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            attributes={a.key: _any_value(a.value) for a in s.attributes},
                        )
                    )
        self.arrived.set()
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")


def _any_value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None


@pytest.fixture
async def otlp_receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    app = Starlette(routes=[Route("/v1/traces", receiver.export, methods=["POST"])])
    async with serving(app, name="otlp-receiver") as url:
        receiver.url = url
        yield receiver


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.span_id:016x}"


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.trace_id:032x}"


def parent_id(span: ReadableSpan) -> str:
    return f"{span.parent.span_id:016x}" if span.parent is not None else ""
