"""Fixtures: tiny upstream MCP servers and the gateway on real loopback sockets.

The upstreams are defined here (not the real enterprise servers) so these tests pin the
gateway's behaviour alone: they accept only a token issued to the gateway for them and
record every call they receive with its ``_meta``. Tokens come from one in-memory token
authority (``tests/service_tokens.py``) whose keys the gateway trusts.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel
from starlette.types import ASGIApp

from agents import agent_names
from gateway import build_gateway_app
from shared.authcontext import AuthContextSigner, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from shared.errors import Unauthenticated
from shared.service_auth import audiences
from shared.tools import (
    CALL_META_KEY,
    FACTS_META_KEY,
    INTERNAL_META_KEY,
    PURPOSE_META_KEY,
    PURPOSES,
    SUBJECT_META_KEY,
    RefundFacts,
)
from tests.dropping_proxy import DroppingProxy
from tests.service_tokens import TokenAuthority

WAIT = 10.0
AGENTS = (*agent_names(), "reactions")
AUTHORITY = TokenAuthority.temporary()
AGENT_TOKENS = {a: AUTHORITY.mint(audiences.GATEWAY, sub=a) for a in AGENTS}
STAFF_TOKENS = {
    "alice": {"token": "staff-alice", "role": "approver"},
    "carol": {"token": "staff-carol", "role": "compliance"},
    "root": {"token": "staff-root", "role": "admin"},
}
ANA = CustomerKeys(
    customer_id="CUST-00001", email="ana@example.com", msisdn="+15550100123", account_number="ACC-1234567"
)
BEN = CustomerKeys(
    customer_id="CUST-00002", email="ben@example.com", msisdn="+15550100999", account_number="ACC-7654321"
)


def tcp_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio enables TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every loopback round trip waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket, path: str = "") -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}{path}"


class Servers:
    """Uvicorn servers on pre-bound sockets, stopped together (each polls its exit flag every 0.1 s)."""

    def __init__(self) -> None:
        self._running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(self, app: ASGIApp, sock: socket.socket) -> uvicorn.Server:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self._running.append((server, task))
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped during start-up")
                await asyncio.sleep(0.005)
        return server

    async def stop(self, server: uvicorn.Server) -> None:
        task = next(t for s, t in self._running if s is server)
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task

    async def stop_all(self) -> None:
        for server, _ in self._running:
            server.should_exit = True
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*(t for _, t in self._running))


@dataclass
class Upstream:
    """A toy enterprise system: what it received, and a gate that holds the ``slow`` tool."""

    name: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)
    # consent: purposes per customer id (everyone not listed has every purpose)
    consents: dict[str, set[str]] = field(default_factory=dict)
    # support: open tickets per email
    open_tickets: dict[str, int] = field(default_factory=dict)
    down: bool = False
    # payments: charges the system flags as duplicates (everything else is a settled, wanted charge)
    # and what was refunded today per account, as its refund_facts read answers.
    duplicates: set[str] = field(default_factory=lambda: {"CH-1", "CH-2"})
    refunded_today: dict[str, float] = field(default_factory=dict)
    fact_reads: list[str] = field(default_factory=list)
    # network: when each line's SIM last changed (ISO time), as check_sim_swap answers
    sim_changed: dict[str, str] = field(default_factory=dict)
    sim_reads: list[str] = field(default_factory=list)


class Refund(BaseModel):
    refund_id: str
    charge_id: str
    amount: float


class Charges(BaseModel):
    account_number: str
    charges: list[str]


class Handoff(BaseModel):
    handoff_id: str
    email: str | None


class Plans(BaseModel):
    plans: list[str]


class GrantedPurposes(BaseModel):
    customer_id: str
    purposes: list[str]


class Tickets(BaseModel):
    tickets: list[dict[str, str]]


class Sent(BaseModel):
    message_id: str


class SimSwap(BaseModel):
    swapped: bool
    latest_sim_change: str | None
    max_age_hours: int


def _subject(arg: str, kind: str) -> dict[str, Any]:
    return {SUBJECT_META_KEY: {"arg": arg, "kind": kind}, "switchboard/version": 1}


def build_upstream(state: Upstream) -> MCPServer:
    verifier = AUTHORITY.verifier()

    async def only_gateway(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        headers = getattr(ctx.request, "headers", None) or {}
        _, _, token = str(headers.get("authorization", "")).partition(" ")
        try:
            claims = await verifier.verify(token, audiences.system(state.name))
        except Unauthenticated as exc:
            raise MCPError(code=-31403, message=f"only the governance gateway may call this server: {exc}") from exc
        if claims.sub != audiences.GATEWAY:
            raise MCPError(code=-31403, message="only the governance gateway may call this server")
        return await call_next(ctx)

    mcp = MCPServer(state.name, middleware=[only_gateway])

    def record(tool: str, ctx: Context, **args: Any) -> None:
        state.calls.append({"tool": tool, "args": args, "call": (ctx.request_context.meta or {}).get(CALL_META_KEY)})

    if state.name == "payments":
        facts = {FACTS_META_KEY: {"tool": "refund_facts", "args": ["account_number", "charge_id"]}}

        @mcp.tool(meta={**_subject("account_number", "account_number"), **facts})
        async def issue_refund(
            account_number: str, charge_id: str, amount: float, reason: str, idempotency_key: str, ctx: Context
        ) -> Refund:
            record(
                "issue_refund",
                ctx,
                account_number=account_number,
                charge_id=charge_id,
                amount=amount,
                key=idempotency_key,
            )
            state.refunded_today[account_number] = state.refunded_today.get(account_number, 0.0) + amount
            return Refund(refund_id="RF-1", charge_id=charge_id, amount=amount)

        @mcp.tool(meta=_subject("account_number", "account_number"), annotations=ToolAnnotations(read_only_hint=True))
        async def refund_facts(account_number: str, charge_id: str, ctx: Context) -> RefundFacts:
            state.fact_reads.append(charge_id)
            return RefundFacts(
                charge_id=charge_id,
                duplicate=charge_id in state.duplicates,
                flagged_error=False,
                refunded_on_charge=0.0,
                refundable_amount=1000.0,
                refunded_today=state.refunded_today.get(account_number, 0.0),
            )

        @mcp.tool(meta={**_subject("account_number", "account_number"), INTERNAL_META_KEY: True})
        async def record_payment(account_number: str, invoice_id: str, amount: float, ctx: Context) -> Refund:
            record("record_payment", ctx, account_number=account_number, invoice_id=invoice_id, amount=amount)
            return Refund(refund_id="CH-NEW", charge_id="CH-NEW", amount=amount)

        @mcp.tool(meta=_subject("account_number", "account_number"), annotations=ToolAnnotations(read_only_hint=True))
        async def list_charges(account_number: str, ctx: Context) -> Charges:
            record("list_charges", ctx, account_number=account_number)
            return Charges(account_number=account_number, charges=["CH-1"])

        @mcp.tool(meta=_subject("account_number", "account_number"))
        async def slow_refund(account_number: str, ctx: Context) -> Refund:
            record("slow_refund", ctx, account_number=account_number)
            await state.release_slow.wait()
            return Refund(refund_id="RF-2", charge_id="CH-2", amount=1.0)

    elif state.name == "support":

        @mcp.tool(meta=_subject("conversation_id", "conversation"))
        async def request_human(conversation_id: str, reason: str, ctx: Context, email: str | None = None) -> Handoff:
            record("request_human", ctx, email=email, reason=reason)
            return Handoff(handoff_id="H-1", email=email)

        @mcp.tool(meta=_subject("email", "email"), annotations=ToolAnnotations(read_only_hint=True))
        async def list_tickets(email: str, ctx: Context, status: str = "any") -> Tickets:
            return Tickets(tickets=[{"ticket_id": f"T-{i}"} for i in range(state.open_tickets.get(email, 0))])

        @mcp.tool(meta=_subject("email", "email"))
        async def open_ticket(email: str, summary: str, ctx: Context) -> Handoff:
            record("open_ticket", ctx, email=email, summary=summary)
            raise ValueError("tickets are closed for maintenance")

    elif state.name == "consent":

        @mcp.tool(meta=_subject("customer_id", "customer_id"), annotations=ToolAnnotations(read_only_hint=True))
        async def get_purposes(customer_id: str, ctx: Context) -> GrantedPurposes:
            if state.down:
                raise RuntimeError("consent registry failing")
            purposes = state.consents.get(customer_id, set(PURPOSES))
            return GrantedPurposes(customer_id=customer_id, purposes=sorted(purposes))

    elif state.name == "crm":

        @mcp.tool(meta={**_subject("email", "email"), PURPOSE_META_KEY: "marketing"})
        async def send_offer(email: str, offer_id: str, ctx: Context) -> Sent:
            record("send_offer", ctx, email=email, offer_id=offer_id)
            return Sent(message_id="OFR-1")

    elif state.name == "billing":

        @mcp.tool(annotations=ToolAnnotations(read_only_hint=True), meta={"switchboard/version": 1})
        async def list_plans(ctx: Context) -> Plans:
            record("list_plans", ctx)
            return Plans(plans=["basic-10"])

        @mcp.tool(meta=_subject("msisdn", "msisdn"), annotations=ToolAnnotations(read_only_hint=True))
        async def list_invoices(msisdn: str, ctx: Context) -> Plans:
            record("list_invoices", ctx, msisdn=msisdn)
            return Plans(plans=[])

    elif state.name == "network":

        @mcp.tool(meta=_subject("msisdn", "msisdn"), annotations=ToolAnnotations(read_only_hint=True))
        async def check_sim_swap(msisdn: str, ctx: Context, max_age_hours: int = 240) -> SimSwap:
            if state.down:
                raise RuntimeError("network system failing")
            state.sim_reads.append(msisdn)
            latest = state.sim_changed.get(msisdn)
            # The toy system keeps "recent" only: any recorded change is inside the window asked about.
            return SimSwap(swapped=latest is not None, latest_sim_change=latest, max_age_hours=max_age_hours)

    return mcp


def upstream_app(state: Upstream) -> ASGIApp:
    return build_upstream(state).streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True
    )


@dataclass
class Env:
    """A running gateway and its upstreams."""

    url: str
    audit_db: Path
    signer: AuthContextSigner
    upstreams: dict[str, Upstream]
    servers: Servers
    upstream_servers: dict[str, uvicorn.Server]
    sockets: dict[str, socket.socket]
    proxies: dict[str, DroppingProxy] = field(default_factory=dict)
    """The upstreams reached through a proxy that can cut connections (``start_env(cut=...)``)."""

    def envelope(self, keys: CustomerKeys | None = ANA, *, conversation_id: str = "conv-1", **kw: Any) -> str:
        token = (
            self.signer.issue(keys, method="otp-sms", assurance="AAL2", conversation_id=conversation_id)
            if keys
            else None
        )
        customer = CustomerRef(keys=keys, display_name="Ana") if keys else None
        return ContextEnvelope(
            conversation_id=conversation_id, customer=customer, auth_context=token, **kw
        ).model_dump_json()

    async def staff(self, name: str, method: str, path: str, body: dict | None = None) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {STAFF_TOKENS[name]['token']}"}
        async with httpx2.AsyncClient(base_url=self.url, timeout=WAIT) as http:
            return await http.request(method, "/governance" + path, json=body, headers=headers)

    async def four_eyes(
        self, requester: str, approver: str, method: str, path: str, body: dict | None = None, minutes: int = 30
    ) -> httpx2.Response:
        """Weaken a control as it must be: one person asks (for ``minutes``, with a reason), a second approves."""
        asked = await self.staff(requester, method, path, {**(body or {}), "minutes": minutes, "reason": "test"})
        assert asked.status_code == 202, asked.text
        change_id = asked.json()["change"]["id"]
        return await self.staff(approver, "POST", f"/changes/{change_id}/approve", {})

    @asynccontextmanager
    async def agent(self, agent: str, token: str | None = None) -> AsyncIterator[Client]:
        headers = {"Authorization": f"Bearer {token or AGENT_TOKENS[agent]}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=WAIT) as http,
            Client(streamable_http_client(self.url + "/mcp", http_client=http)) as client,
        ):
            yield client


@pytest.fixture
def identity_key() -> bytes:
    return generate_private_key_pem()


@asynccontextmanager
async def start_env(
    tmp_path: Path,
    identity_key: bytes,
    *,
    systems: tuple[str, ...] = ("payments", "support", "billing", "consent", "crm"),
    down: tuple[str, ...] = (),
    cut: tuple[str, ...] = (),
    policy_dir: Path | None = None,
    timeout: float = 5.0,
    **gateway_options: Any,
) -> AsyncIterator[Env]:
    """Start the upstreams (except ``down``, whose sockets are bound but not listening) and the gateway.

    The gateway reaches the systems in ``cut`` through a ``DroppingProxy``.
    """
    servers = Servers()
    states, urls, socks, running, proxies = {}, {}, {}, {}, {}
    try:
        for system in systems:
            states[system], socks[system] = Upstream(system), tcp_socket()
            urls[system] = url_of(socks[system], "/mcp")
            if system in cut:
                proxies[system] = DroppingProxy(socks[system].getsockname()[1])
                await proxies[system].start()
                urls[system] = proxies[system].url("/mcp")
            if system not in down:
                running[system] = await servers.start(upstream_app(states[system]), socks[system])
        extra = {"policy_dir": policy_dir} if policy_dir else {}
        socks["gateway"] = tcp_socket()
        app = build_gateway_app(
            upstreams=urls,
            auth=AUTHORITY.auth(audiences.GATEWAY),
            agents=AGENTS,
            public_url=url_of(socks["gateway"]),
            identity_public_pem=public_pem_from_private(identity_key).decode(),
            audit_db=tmp_path / "audit.db",
            mcp_timeout_seconds=timeout,
            staff_tokens=STAFF_TOKENS,
            **extra,
            **gateway_options,
        )
        await servers.start(app, socks["gateway"])
        yield Env(
            url_of(socks["gateway"]),
            tmp_path / "audit.db",
            AuthContextSigner(identity_key),
            states,
            servers,
            running,
            socks,
            proxies,
        )
    finally:
        await servers.stop_all()
        for proxy in proxies.values():
            await proxy.close()
        for sock in socks.values():
            sock.close()


@pytest.fixture
async def env(tmp_path: Path, identity_key: bytes) -> AsyncIterator[Env]:
    async with start_env(tmp_path, identity_key) as running:
        yield running
