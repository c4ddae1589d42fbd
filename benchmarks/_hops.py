"""What the benchmarks share: the embedded stack counting its hops, and echo servers made with
the bare SDKs that make the same hops (the floor every Switchboard figure is compared with)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import httpx2
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Part,
    Role,
    SendMessageRequest,
)
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.launcher import Stack
from shared.serving import bind, run, start, url_of
from shared.settings import Settings

APPROVAL_THRESHOLD_PENCE = 4000  # policies/approvals.cedar: refunds above 40.00 need a human


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.asynccontextmanager
async def serve(make_app: Callable[[str], Starlette]) -> AsyncIterator[str]:
    """Serve the app built for its own URL on a free loopback port."""
    sock = bind()
    running = await start("bench", make_app(url_of(sock)), sock)
    try:
        yield url_of(sock)
    finally:
        await running.stop()


class CountingStack(Stack):
    """The embedded stack, counting the A2A and MCP requests (POSTs) its services receive."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, ephemeral_ports=True)
        self.hops: Counter[str] = Counter()

    def _counted(self, protocol: str, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                self.hops[protocol] += 1
            await app(scope, receive, send)

        return counted

    def _mcp_app(self, system: str) -> ASGIApp:
        return self._counted("mcp", super()._mcp_app(system))

    def _gateway_app(self) -> ASGIApp:
        return self._counted("mcp", super()._gateway_app())

    def _agent_app(self, agent: str) -> ASGIApp:
        return self._counted("a2a", super()._agent_app(agent))


class _Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        await event_queue.enqueue_event(new_text_message(context.get_user_input(), context_id=context.context_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


@dataclass
class Floor:
    """The bare-SDK floor: ``turn(hops)`` makes one turn's hops from here; ``url`` + ``/turn``
    makes them inside the floor's own process, as ``switchboard up`` makes its hops in its own."""

    turn: Callable[[Counter[str]], Awaitable[float]]
    url: str


@contextlib.asynccontextmanager
async def bare() -> AsyncIterator[Floor]:
    """Echo servers made with the bare SDKs, and the client hops to them."""
    mcp = MCPServer("echo")

    @mcp.tool()
    async def echo(text: str) -> dict[str, str]:
        return {"text": text}

    mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    async def api(request: Request) -> JSONResponse:
        return JSONResponse({"echo": (await request.json())["text"]})

    def echo_agent(url: str) -> Starlette:
        card = AgentCard(
            name="echo",
            description="echo",
            version="1",
            supported_interfaces=[
                AgentInterface(url=f"{url}/a2a/jsonrpc", protocol_binding="JSONRPC", protocol_version="1.0")
            ],
            capabilities=AgentCapabilities(streaming=False),
            # A spec-complete card, so the SDK does not warn on every run.
            default_input_modes=["text/plain"],
            default_output_modes=["text/plain"],
            skills=[AgentSkill(id="echo", name="echo", description="Echoes the text.", tags=["echo"])],
        )
        handler = DefaultRequestHandler(agent_executor=_Echo(), task_store=InMemoryTaskStore(), agent_card=card)
        return Starlette(
            routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/a2a/jsonrpc")]
        )

    hops_here: dict[str, Callable[[Counter[str]], Awaitable[None]]] = {}

    async def turn_here(request: Request) -> JSONResponse:
        """One turn whose HTTP hop is this request and whose A2A and MCP hops this process makes."""
        body = await request.json()
        await hops_here["make"](Counter({"a2a": int(body["a2a"]), "mcp": int(body["mcp"])}))
        return JSONResponse({"ok": True})

    limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
    async with (
        serve(lambda _: Starlette(routes=[Mount("/", app=mcp_app)], lifespan=lifespan)) as mcp_url,
        serve(
            lambda _: Starlette(
                routes=[Route("/api", api, methods=["POST"]), Route("/turn", turn_here, methods=["POST"])]
            )
        ) as api_url,
        serve(echo_agent) as a2a_url,
        httpx.AsyncClient(limits=limits, timeout=60) as http,
        httpx2.AsyncClient(
            limits=httpx2.Limits(max_connections=500, max_keepalive_connections=500), timeout=60
        ) as http2,
        Client(streamable_http_client(f"{mcp_url}/mcp", http_client=http2)) as mcp_client,
    ):
        card = await A2ACardResolver(http, a2a_url).get_agent_card()
        a2a = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)

        async def make(hops: Counter[str]) -> None:
            for _ in range(hops["a2a"]):
                msg = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text="yes")])
                async for _ in a2a.send_message(SendMessageRequest(message=msg)):
                    pass
            for _ in range(hops["mcp"]):
                await mcp_client.call_tool("echo", {"text": "x"})

        hops_here["make"] = make

        async def turn(hops: Counter[str]) -> float:
            t0 = time.perf_counter()
            await http.post(f"{api_url}/api", json={"text": "yes please"})
            await make(hops)
            return (time.perf_counter() - t0) * 1000

        yield Floor(turn, api_url)


async def _serve_floor() -> None:
    """``python benchmarks/_hops.py``: the floor in a process of its own; prints its URL, stops on SIGINT."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    async with bare() as floor:
        print(floor.url, flush=True)
        await stop.wait()


if __name__ == "__main__":
    # The event loop ``switchboard up`` runs on, so the floor is measured on the same footing.
    run(_serve_floor())
