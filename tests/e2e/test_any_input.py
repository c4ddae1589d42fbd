"""No input crashes a turn: every HTTP endpoint answers any bytes with a 2xx or a 4xx, never a 500.

Property-based over bodies, headers and query strings, against the running stack's real
sockets. The endpoints are read from the apps' own route tables (plus each MCP endpoint), so a
new route is covered the day it is added. Bodies include the inputs that once crashed a turn:
lone UTF-16 surrogates, deep nesting, integers of more than 4,300 digits, wrong encodings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route

from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

EXAMPLES = 25


@dataclass(frozen=True)
class Endpoint:
    base: str
    method: str
    path: str  # with {params}
    tokens: tuple[str, ...]  # credentials that get a request past authentication here


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes or [], prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted((route.methods or {"POST"}) - {"HEAD"}):
                yield method, prefix + route.path
        elif getattr(route, "path", None):
            yield "POST", prefix + route.path


def _endpoints(running: RunningStack) -> list[Endpoint]:
    stack, topology = running.stack, running.topology
    assert stack.secrets is not None
    staff = tuple(c.token for c in stack.secrets.staff_tokens.values())
    agents = tuple(stack.secrets.agent_tokens.values())
    found: list[Endpoint] = []
    services = [
        (topology.orchestrator, stack._orchestrator_app(), (*staff, stack.secrets.service_token)),
        (topology.gateway, stack._gateway_app(), (*staff, *agents)),
    ]
    services += [(url, stack._agent_app(name), (stack.secrets.service_token,)) for name, url in topology.agents.items()]
    for base, app, tokens in services:
        found += [Endpoint(base, m, p, tokens) for m, p in _routes(app.routes)]
    found += [Endpoint(base, "POST", "/mcp", (stack.secrets.gateway_token,)) for base in topology.systems.values()]
    return sorted(set(found), key=lambda e: (e.base, e.path, e.method))


def _quote(text: str, safe: str = "") -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


SURROGATE = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d"])
TEXT = st.one_of(st.text(max_size=40), SURROGATE)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
KEYS = ["text", "channel", "jsonrpc", "method", "params", "id", "name", "arguments", "reason", "mode", "specversion"]


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(_encode),
    st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=5).map(_encode),
    st.integers(min_value=1, max_value=30_000).map(lambda n: b'{"text": ' + b"[" * n + b"]" * n + b"}"),
    st.integers(min_value=4_301, max_value=20_000).map(lambda n: b'{"text": "x", "amount": ' + b"9" * n + b"}"),
    st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"]).map(
        lambda codec: '{"text": "café £5", "jsonrpc": "2.0"}'.encode(codec)
    ),
    st.just(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "\\ud800", "arguments": {}}}'),
)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain; charset=utf-16",
        "application/json; charset=latin-1",
        "multipart/form-data; boundary=x",
        "\u00e9\u00ff",
    ]
)
QUERIES = st.one_of(
    st.just(""),
    st.binary(max_size=60).map(lambda b: "".join(f"%{c:02X}" for c in b)),
    st.text(max_size=30).map(lambda t: _quote(t, safe="=&")),
    st.just("limit=" + "9" * 5000 + "&limit=-1&since=%ED%A0%80"),
)
PRE_ENCODED = ("%ED%A0%80", "..%2F..", "%00")
PARAMS = st.one_of(
    st.sampled_from(["CONV", "x", "%ED%A0%80", "9" * 5000, "..%2F..", "%00"]), st.text(min_size=1, max_size=20)
)


def _path(template: str, value: str, conversation_id: str) -> str:
    def fill(match: re.Match[str]) -> str:
        chosen = conversation_id if value == "CONV" else value
        return chosen if chosen in PRE_ENCODED else _quote(chosen)

    return re.sub(r"\{[^}]+\}", fill, template)


async def _check(http: httpx.AsyncClient, endpoint: Endpoint, request: httpx.Request) -> None:
    response = await http.send(request)
    where = f"{endpoint.method} {str(request.url)[:200]}"
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.content, f"{where} answered {response.status_code} with no message"


async def test_every_endpoint_answers_any_bytes_without_a_server_error(running: RunningStack, chat: Chat) -> None:
    endpoints = _endpoints(running)
    assert any(e.path == "/api/signals" for e in endpoints) and any(e.path == "/a2a/jsonrpc" for e in endpoints)
    async with httpx.AsyncClient(timeout=60) as http:

        @settings(
            max_examples=EXAMPLES * len(endpoints),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            derandomize=True,
        )
        @given(
            endpoint=st.sampled_from(endpoints),
            body=BODIES,
            content_type=CONTENT_TYPES,
            query=QUERIES,
            param=PARAMS,
            auth=st.integers(min_value=0, max_value=3),
            extra=st.binary(max_size=20),
        )
        def property(endpoint, body, content_type, query, param, auth, extra) -> None:  # type: ignore[no-untyped-def]
            # Any bytes HTTP/1.1 lets through in a header value: visible ASCII and obs-text (0x80-0xff).
            junk = bytes(b for b in extra if b > 0x20 and b != 0x7F) or b"-"
            headers: list[tuple[bytes, bytes]] = [(b"x-junk", junk)]
            if content_type is not None:
                headers.append((b"content-type", content_type.encode("latin-1")))
            if auth == 1:
                headers.append((b"authorization", b"Bearer " + junk))
            elif auth >= 2 and endpoint.tokens:
                token = endpoint.tokens[auth % len(endpoint.tokens)]
                headers.append((b"authorization", f"Bearer {token}".encode()))
            if endpoint.path.startswith("/api/conversations/"):
                headers.append((b"authorization", f"Bearer {chat.token}".encode()))
            headers.append((b"accept", b"application/json, text/event-stream"))
            path = _path(endpoint.path, param, chat.conversation_id)
            url = httpx.URL(endpoint.base + path).copy_with(query=query.encode("ascii"))
            content = body if endpoint.method in ("POST", "DELETE") else None
            requests.append((endpoint, httpx.Request(endpoint.method, url, headers=headers, content=content)))

        requests: list[tuple[Endpoint, httpx.Request]] = []
        property()
        for endpoint, request in requests:
            await _check(http, endpoint, request)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"text": "hello \\ud800 there"}', "surrogate"),
        (b'{"text": "x", "n": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nests deeper"),
        (b'{"text": "x", "n": ' + b"9" * 5_000 + b"}", "number in it is too long"),
        ('{"text": "hello"}'.encode("utf-16"), "not UTF-8"),
    ],
)
async def test_the_inputs_that_crashed_a_turn_get_a_clear_400(chat: Chat, body: bytes, says: str) -> None:
    response = await chat.http.post(
        f"/api/conversations/{chat.conversation_id}/messages",
        content=body,
        headers={"Authorization": f"Bearer {chat.token}", "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]["message"]
    assert (await chat.say("I want to talk to a human please"))["agent"] == "escalation"
