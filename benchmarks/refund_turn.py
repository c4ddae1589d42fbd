"""One complete refund turn, next to the same number of hops made with the bare SDKs.

The refund turn is the customer's "yes" after the payment agent proposed refunding a
duplicate charge: HTTP to the orchestrator, A2A to the payment specialist, and each governed
MCP call (agent -> gateway -> payments server, two MCP hops). The bare run makes one plain
HTTP JSON call, one A2A call to an echo agent and two MCP tool calls per governed call, in
the same process and run, so machine noise hits both alike.

    python benchmarks/refund_turn.py [--samples 40]
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
from collections.abc import AsyncIterator, Callable
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
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, Message, Part, Role, SendMessageRequest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from orchestrator.governance import read_audit
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


async def measure_switchboard(samples: int, warmup: int) -> tuple[list[float], int]:
    data_dir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    settings = Settings(data_dir=data_dir, customers=(samples + warmup) * 20)
    async with (
        Stack(settings, ephemeral_ports=True) as topology,
        httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http,
    ):
        # Refunds above the approval threshold wait for a human: this measures the direct path.
        customers = [
            c
            for c in sample_customers(data_dir, 10_000, has_duplicate_charge=True)
            if c["duplicate_charge_pence"] <= APPROVAL_THRESHOLD_PENCE
        ][: samples + warmup]
        if len(customers) < samples + warmup:
            raise SystemExit(f"only {len(customers)} customers with a small duplicate charge; lower --samples")
        times: list[float] = []
        hops = 0
        for i, customer in enumerate(customers):
            started = (await http.post("/api/conversations", json={})).json()
            conv, headers = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}

            async def say(text: str, conv: str = conv, headers: dict = headers) -> dict:
                r = await http.post(f"/api/conversations/{conv}/messages", json={"text": text}, headers=headers)
                r.raise_for_status()
                return r.json()

            await say("I was charged twice, please refund the duplicate")
            await say(customer["email"])
            code = read_outbox(data_dir, customer_id=customer["customer_id"], limit=1)[-1]["text"]
            proposal = await say(re.search(r"\b\d{6}\b", code).group(0))
            assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
            before = len(read_audit(data_dir / "audit.db", conversation_id=conv, limit=10_000))
            t0 = time.perf_counter()
            done = await say("yes please")
            elapsed = (time.perf_counter() - t0) * 1000
            assert done["status"] == "completed" and done["data"].get("refund_id"), done
            after = read_audit(data_dir / "audit.db", conversation_id=conv, limit=10_000)
            calls = sum(1 for r in after[before:] if r.kind == "decision")
            if i >= warmup:
                times.append(elapsed)
                hops = calls
    return times, hops


class _Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        await event_queue.enqueue_event(new_text_message(context.get_user_input(), context_id=context.context_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


async def measure_bare(samples: int, warmup: int, mcp_calls: int) -> list[float]:
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
        times: list[float] = []
        for i in range(samples + warmup):
            t0 = time.perf_counter()
            await http.post(f"{api_url}/api", json={"text": "yes please"})
            msg = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text="yes")])
            async for _ in a2a.send_message(SendMessageRequest(message=msg)):
                pass
            for _ in range(2 * mcp_calls):
                await mcp_client.call_tool("echo", {"text": "x"})
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
        return times


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    print(f"refund turn: {args.samples} samples after {args.warmup} warm-up turns ...", flush=True)
    load_before = os.getloadavg()
    ours, calls = await measure_switchboard(args.samples, args.warmup)
    bare = await measure_bare(args.samples, args.warmup, calls)
    load_after = os.getloadavg()
    hops = f"1 HTTP + 1 A2A + {calls} governed MCP calls ({2 * calls} MCP hops)"
    print(f"hops per refund turn: {hops}")
    print(f"switchboard refund turn  p50 {statistics.median(ours):7.2f} ms   p95 {pct(ours, 0.95):7.2f} ms")
    print(f"bare SDKs, same hops     p50 {statistics.median(bare):7.2f} ms   p95 {pct(bare, 0.95):7.2f} ms")
    ratio50 = statistics.median(ours) / statistics.median(bare)
    ratio95 = pct(ours, 0.95) / pct(bare, 0.95)
    print(f"ratio                    p50 {ratio50:7.2f}      p95 {ratio95:7.2f}      (target p50 <= 1.5)")
    # Both sides share the machine's cores, so a busy machine moves both figures: note how busy.
    print(f"load average (1 min)     before {load_before[0]:.2f}  after {load_after[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
