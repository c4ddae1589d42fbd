"""One complete refund turn, next to the same number of hops made with the bare SDKs.

The refund turn is the customer's "yes" after the payment agent proposed refunding a
duplicate charge: HTTP to the orchestrator, A2A to the payment specialist, and every MCP call
the turn makes: agent -> gateway and gateway -> system for each governed call, plus the
gateway's own reads of the consent registry that policy needs. The hops are counted, not
assumed: every A2A and MCP request the services receive during the turn. The bare run makes
one plain HTTP JSON call and the same number of A2A calls to an echo agent and MCP tool calls
to an echo tool, in the same process and run, one turn of each in turn, so machine noise
hits both alike.

    python benchmarks/refund_turn.py [--samples 80]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

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

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from orchestrator.launcher import Stack
from shared.serving import bind, start, url_of
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


class SwitchboardTurns:
    """The embedded stack with conversations brought to the refund proposal, one per turn."""

    def __init__(self, stack: CountingStack, http: httpx.AsyncClient, customers: list[dict]) -> None:
        self.stack = stack
        self.http = http
        self.customers = iter(customers)
        self.hops: Counter[str] = Counter()

    async def refund_turn(self) -> float:
        """Prepare the next customer's conversation (not timed), then time the customer's "yes"."""
        customer = next(self.customers)
        http, data_dir = self.http, self.stack.settings.data_dir
        started = (await http.post("/api/conversations", json={})).json()
        conv, headers = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}

        async def say(text: str) -> dict:
            r = await http.post(f"/api/conversations/{conv}/messages", json={"text": text}, headers=headers)
            r.raise_for_status()
            return r.json()

        await say("I was charged twice, please refund the duplicate")
        await say(customer["email"])
        code = read_outbox(data_dir, customer_id=customer["customer_id"], limit=1)[-1]["text"]
        proposal = await say(re.search(r"\b\d{6}\b", code).group(0))
        assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
        before = self.stack.hops.copy()
        t0 = time.perf_counter()
        done = await say("yes please")
        elapsed = (time.perf_counter() - t0) * 1000
        assert done["status"] == "completed" and done["data"].get("refund_id"), done
        self.hops = self.stack.hops - before
        return elapsed


@contextlib.asynccontextmanager
async def switchboard(turns: int) -> AsyncIterator[SwitchboardTurns]:
    data_dir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    settings = Settings(data_dir=data_dir, customers=min(turns * 20, 1000))
    stack = CountingStack(settings)
    async with stack as topology, httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
        # Refunds above the approval threshold wait for a human: this measures the direct path.
        customers = [
            c
            for c in sample_customers(data_dir, 10_000, has_duplicate_charge=True)
            if c["duplicate_charge_pence"] <= APPROVAL_THRESHOLD_PENCE
        ][:turns]
        if len(customers) < turns:
            raise SystemExit(f"only {len(customers)} customers with a small duplicate charge; lower --samples")
        yield SwitchboardTurns(stack, http, customers)


class _Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        await event_queue.enqueue_event(new_text_message(context.get_user_input(), context_id=context.context_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


@contextlib.asynccontextmanager
async def bare(hops: Counter[str]) -> AsyncIterator[Callable[[], Awaitable[float]]]:
    """Echo servers made with the bare SDKs; yields a function that times one turn of ``hops``."""
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

    async with (
        serve(lambda _: Starlette(routes=[Mount("/", app=mcp_app)], lifespan=lifespan)) as mcp_url,
        serve(lambda _: Starlette(routes=[Route("/api", api, methods=["POST"])])) as api_url,
        serve(echo_agent) as a2a_url,
        httpx.AsyncClient() as http,
        httpx2.AsyncClient() as http2,
        Client(streamable_http_client(f"{mcp_url}/mcp", http_client=http2)) as mcp_client,
    ):
        card = await A2ACardResolver(http, a2a_url).get_agent_card()
        a2a = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)

        async def turn() -> float:
            t0 = time.perf_counter()
            await http.post(f"{api_url}/api", json={"text": "yes please"})
            for _ in range(hops["a2a"]):
                msg = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text="yes")])
                async for _ in a2a.send_message(SendMessageRequest(message=msg)):
                    pass
            for _ in range(hops["mcp"]):
                await mcp_client.call_tool("echo", {"text": "x"})
            return (time.perf_counter() - t0) * 1000

        yield turn


async def measure(samples: int, warmup: int) -> tuple[list[float], list[float], Counter[str]]:
    """Alternate one Switchboard turn and one bare turn, so a busy moment slows both alike."""
    ours: list[float] = []
    theirs: list[float] = []
    async with switchboard(samples + warmup) as sb:
        for _ in range(warmup):
            await sb.refund_turn()
        async with bare(sb.hops) as bare_turn:
            for _ in range(warmup):
                await bare_turn()
            for _ in range(samples):
                ours.append(await sb.refund_turn())
                theirs.append(await bare_turn())
        return ours, theirs, sb.hops


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Each run's medians move with the machine's speed: more pairs average more of that out.
    parser.add_argument("--samples", type=int, default=80, help="timed turns of each kind (at most about 90)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed turns of each kind first")
    args = parser.parse_args()
    print(f"refund turn: {args.samples} samples after {args.warmup} warm-up turns ...", flush=True)
    load_before = os.getloadavg()
    ours, bare, hops = await measure(args.samples, args.warmup)
    load_after = os.getloadavg()
    print(f"hops per refund turn: 1 HTTP + {hops['a2a']} A2A + {hops['mcp']} MCP calls (each one hop)")
    print(f"switchboard refund turn  p50 {statistics.median(ours):7.2f} ms   p95 {pct(ours, 0.95):7.2f} ms")
    print(f"bare SDKs, same hops     p50 {statistics.median(bare):7.2f} ms   p95 {pct(bare, 0.95):7.2f} ms")
    ratio50 = statistics.median(ours) / statistics.median(bare)
    ratio95 = pct(ours, 0.95) / pct(bare, 0.95)
    print(f"ratio                    p50 {ratio50:7.2f}      p95 {ratio95:7.2f}      (target p50 <= 1.5)")
    # Both sides share the machine's cores, so a busy machine moves both figures: note how busy.
    print(f"load average (1 min)     before {load_before[0]:.2f}  after {load_after[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
