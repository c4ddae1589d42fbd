"""OpenTelemetry spans for every hop, exported over OTLP/HTTP; off unless an endpoint is set.

Off is the default and costs the hot path one flag test per span: ``span`` then returns one
shared no-op context manager and the SDK is never imported. On, every process that calls
``configure`` installs one tracer provider; the W3C context travels in A2A message metadata
and MCP request ``_meta`` under the ``traceparent`` / ``tracestate`` keys.

Attribute names follow the current OpenTelemetry GenAI, RPC and HTTP semantic conventions
(``rpc.system.name``, not the deprecated ``rpc.system``/``rpc.service``; ``gen_ai.provider.name``
on model calls); Switchboard's own facts (routing confidence, governance decision) use
``switchboard.*``.

Each service reports its own ``service.name``, also when several run in one process (the
embedded default): ``shared.telemetry_asgi`` marks every request with the service serving it,
and spans take the tracer of that service (one resource each, one exporter for all).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import propagate
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode

from shared.errors import ConfigurationError
from shared.tracing import TRACEPARENT, TRACESTATE, TraceContext

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "SpanKind",
    "configure",
    "disable",
    "enabled",
    "endpoint_from_env",
    "extract",
    "parent_of",
    "service",
    "set_attributes",
    "set_error",
    "span",
    "trace_context",
]

ENDPOINT_ENV = "SWITCHBOARD_OTLP_ENDPOINT"
"""Base URL of an OTLP/HTTP receiver (a collector, Jaeger): ``http://localhost:4318``."""

A2A_SDK_SPANS_ENV = "SWITCHBOARD_OTEL_A2A_SDK_SPANS"
"""``true`` keeps the a2a SDK's internal spans (queues, dispatchers), which are off by default."""

TRACES_PATH = "/v1/traces"

# Semantic-convention attribute names (GenAI, RPC, server).
OPERATION = "gen_ai.operation.name"
AGENT_NAME = "gen_ai.agent.name"
TOOL_NAME = "gen_ai.tool.name"
CONVERSATION_ID = "gen_ai.conversation.id"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
PROVIDER_NAME = "gen_ai.provider.name"
RPC_SYSTEM = "rpc.system.name"
RPC_METHOD = "rpc.method"  # fully qualified; the JSON-RPC method for A2A (rpc.service is deprecated)
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
URL_PATH = "url.path"
URL_SCHEME = "url.scheme"

# The a2a SDK traces its own queues and dispatchers without joining the caller's trace:
# every handoff would add ~40 spans in a separate trace. Switchboard's spans cover the hop.
_A2A_SDK_SCOPE = "a2a-python-sdk"

_OFF: contextlib.AbstractContextManager[None] = contextlib.nullcontext()


class _State:
    enabled = False
    tracer: trace_api.Tracer | None = None
    provider: TracerProvider | None = None
    relay: Any = None  # _Relay, once a provider exists


# The service handling the current request (set per request by shared.telemetry_asgi).
_service: contextvars.ContextVar[str | None] = contextvars.ContextVar("switchboard_service", default=None)


_state = _State()


def enabled() -> bool:
    return _state.enabled


def endpoint_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The OTLP/HTTP traces URL from the environment, or None (tracing stays off).

    ``SWITCHBOARD_OTLP_ENDPOINT`` wins; then the standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
    (used as is) and ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base URL).
    """
    env = os.environ if environ is None else environ
    for name, is_base in (
        (ENDPOINT_ENV, True),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", False),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", True),
    ):
        value = (env.get(name) or "").strip()
        if not value:
            continue
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"{name}={value!r} is not an http(s) URL",
                hint="set it to the OTLP/HTTP receiver, e.g. http://localhost:4318",
            )
        if is_base and not parts.path.rstrip("/").endswith(TRACES_PATH):
            return value.rstrip("/") + TRACES_PATH
        return value
    return None


def configure(
    service_name: str,
    *,
    exporter: SpanExporter | None = None,
    endpoint: str | None = None,
    batch: bool = True,
) -> bool:
    """Turn tracing on for this process; False (and nothing changes) without an endpoint.

    Idempotent: the first call wins while tracing is on, and the first ``service_name`` stays
    the process's (one provider per process). ``exporter`` replaces OTLP (tests pass an
    in-memory one with ``batch=False`` so spans are visible when they end).
    """
    if _state.enabled:
        return True
    if exporter is None:
        endpoint = endpoint or endpoint_from_env()
        if endpoint is None:
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint)
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    if _state.provider is None:
        _install(service_name)
    _state.relay.swap(processor)
    _state.enabled = True
    return True


def disable() -> None:
    """Stop recording and flush what was recorded (the provider stays: OpenTelemetry allows one)."""
    _state.enabled = False
    if _state.relay is not None:
        _state.relay.swap(None)


def _install(service_name: str) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult

    keep_a2a = os.environ.get(A2A_SDK_SPANS_ENV, "").strip().lower() in ("1", "true", "yes")

    class Gate(Sampler):
        """Parent-based always-on while tracing is on; drops everything once ``disable`` ran."""

        def __init__(self) -> None:
            self._on = ParentBased(ALWAYS_ON)

        def should_sample(self, parent_context: Any, trace_id: int, *args: Any, **kwargs: Any) -> SamplingResult:
            if not _state.enabled:
                return SamplingResult(Decision.DROP)
            return self._on.should_sample(parent_context, trace_id, *args, **kwargs)

        def get_description(self) -> str:
            return "SwitchboardGate"

    class Relay(SpanProcessor):
        """Forwards to the current processor; swapping it lets a process turn tracing on again."""

        def __init__(self) -> None:
            self._to: Any = None

        def swap(self, processor: Any) -> None:
            old, self._to = self._to, processor
            if old is not None:
                old.shutdown()

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            if (to := self._to) is not None:
                to.on_start(span, parent_context=parent_context)

        def on_end(self, span: Any) -> None:
            if (to := self._to) is not None:
                to.on_end(span)

        def shutdown(self) -> None:
            self.swap(None)

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            to = self._to
            return True if to is None else bool(to.force_flush(timeout_millis))

    class Provider(TracerProvider):
        def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace_api.Tracer:
            if instrumenting_module_name == _A2A_SDK_SCOPE and not keep_a2a:
                return _NOOP_TRACER
            return super().get_tracer(instrumenting_module_name, *args, **kwargs)

    relay = Relay()
    by_service: dict[str, Provider] = {}

    def provider_for(name: str) -> Provider:
        made = by_service.get(name)
        if made is None:
            # OTEL_RESOURCE_ATTRIBUTES, when set, refines this resource.
            made = by_service[name] = Provider(sampler=Gate(), resource=Resource.create({"service.name": name}))
            made.add_span_processor(relay)
        return made

    class Dispatching(Provider):
        """The process's provider: every tracer, ours or a library's, starts spans as the current service."""

        def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace_api.Tracer:
            default = super().get_tracer(instrumenting_module_name, *args, **kwargs)
            if default is _NOOP_TRACER:
                return default

            def for_service(name: str) -> trace_api.Tracer:
                return provider_for(name).get_tracer(instrumenting_module_name, *args, **kwargs)

            return _ServiceTracer(default, for_service)

    current = trace_api.get_tracer_provider()
    if isinstance(current, TracerProvider):
        # The host (an auto-instrumentation distro, a test harness) already owns the provider.
        provider: TracerProvider = current
    else:
        provider = Dispatching(sampler=Gate(), resource=Resource.create({"service.name": service_name}))
        trace_api.set_tracer_provider(provider)
    provider.add_span_processor(relay)
    _state.provider, _state.relay = provider, relay
    _state.tracer = provider.get_tracer("switchboard")


class _ServiceTracer(trace_api.Tracer):
    """Starts each span with the tracer of the service handling the current request (if any)."""

    def __init__(self, default: trace_api.Tracer, for_service: Callable[[str], trace_api.Tracer]) -> None:
        self._default = default
        self._for_service = for_service
        self._tracers: dict[str, trace_api.Tracer] = {}

    def _pick(self) -> trace_api.Tracer:
        name = _service.get()
        if name is None:
            return self._default
        tracer = self._tracers.get(name)
        if tracer is None:
            tracer = self._tracers[name] = self._for_service(name)
        return tracer

    def start_span(self, *args: Any, **kwargs: Any) -> Span:
        return self._pick().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._pick().start_as_current_span(*args, **kwargs)


@contextlib.contextmanager
def service(name: str) -> Iterator[None]:
    """Spans started inside the block report ``service.name=name`` (tasks started there too)."""
    token = _service.set(name)
    try:
        yield
    finally:
        _service.reset(token)


_NOOP_TRACER = trace_api.NoOpTracer()


def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    parent: Context | None = None,
) -> contextlib.AbstractContextManager[Span | None]:
    """A current span around a block, or ``None`` inside the block when tracing is off.

    ``parent`` is a remote context (``extract``/``parent_of``); without it the span nests
    under whatever span is current.
    """
    tracer = _state.tracer if _state.enabled else None
    if tracer is None:
        return _OFF
    return tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=_clean(attributes) if attributes else None
    )


def set_attributes(target: Span | None, attributes: Mapping[str, Any]) -> None:
    """Set attributes on a span from ``span`` (a no-op when it is None); None values are skipped."""
    if target is not None:
        target.set_attributes(_clean(attributes))


def set_error(target: Span | None, error_type: str, description: str = "") -> None:
    """Mark a span failed without an exception (a denial, an unreachable service)."""
    if target is not None:
        target.set_attribute(ERROR_TYPE, error_type)
        target.set_status(StatusCode.ERROR, description or None)


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, str | bool | int | float):
            out[key] = value
        elif isinstance(value, Sequence):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def trace_context(current: Span | None = None) -> TraceContext | None:
    """The W3C context of ``current`` (or of the current span), None when there is no valid one."""
    if not _state.enabled:
        return None
    ctx = (current or trace_api.get_current_span()).get_span_context()
    if not ctx.is_valid:
        return None
    return TraceContext(
        traceparent=f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}",
        tracestate=ctx.trace_state.to_header(),
    )


def extract(carrier: Mapping[str, Any] | None) -> Context | None:
    """A remote parent from ``traceparent``/``tracestate`` keys; None if absent or malformed.

    None (not an empty context) lets the span nest under the current one instead of
    starting an orphan trace.
    """
    if not _state.enabled or not carrier:
        return None
    headers = {k: str(carrier[k]) for k in (TRACEPARENT, TRACESTATE) if carrier.get(k)}
    if TRACEPARENT not in headers:
        return None
    try:
        ctx = propagate.extract(headers)
    except (TypeError, ValueError):
        return None
    if not trace_api.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx


def parent_of(trace: TraceContext | None) -> Context | None:
    """A remote parent from an envelope's trace context."""
    return extract(trace.carrier()) if trace is not None else None
