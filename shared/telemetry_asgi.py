"""Tracing at a service's HTTP edge (pure ASGI, so streaming responses pass untouched).

- ``ServiceName`` marks every request (and the lifespan, whose tasks serve later requests) with
  the service that handles it, so its spans carry that ``service.name`` even when several
  services share one process.
- ``HttpServerSpans`` opens an HTTP server span per request, named and attributed by the HTTP
  semantic conventions, continuing the caller's W3C ``traceparent``: a channel in front of
  Switchboard (a contact-centre platform, a gateway) sees the turn inside its own trace.

Both cost one flag test per request while tracing is off.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import telemetry
from shared.tracing import TRACEPARENT, TRACESTATE


class ServiceName:
    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not telemetry.enabled() and scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        with telemetry.service(self.name):
            await self.app(scope, receive, send)


class HttpServerSpans:
    """One SERVER span per HTTP request whose path starts with one of ``prefixes``."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = ("/",)) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not telemetry.enabled() or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = telemetry.extract({k: headers[k] for k in (TRACEPARENT, TRACESTATE) if k in headers})
        method = scope["method"]
        server = scope.get("server") or (None, None)
        attributes = {
            telemetry.HTTP_METHOD: method,
            telemetry.URL_PATH: scope["path"],
            telemetry.URL_SCHEME: scope.get("scheme", "http"),
            telemetry.SERVER_ADDRESS: server[0],
            telemetry.SERVER_PORT: server[1],
        }
        with telemetry.span(method, kind=telemetry.SpanKind.SERVER, attributes=attributes, parent=parent) as span:
            status = 500

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                # The router put the matched route in the scope: "{method} {route}" is the convention.
                route = getattr(scope.get("route"), "path", None)
                if span is not None:
                    if route:
                        span.update_name(f"{method} {route}")
                    telemetry.set_attributes(span, {telemetry.HTTP_ROUTE: route, telemetry.HTTP_STATUS: status})
                    if status >= 500:
                        telemetry.set_error(span, str(status))
