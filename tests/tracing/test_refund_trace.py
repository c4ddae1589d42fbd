"""One refund, one trace: orchestrator, payment agent, gateway and a payments MCP server in its own process.

The stack runs embedded except for the payments system, which is served by a child process
that exports its spans over OTLP/HTTP to a receiver in this test; the rest is recorded in
memory here. The only way the child's span can name its parent is the W3C context the
gateway put in the MCP request ``_meta``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp

from gateway import read_audit
from orchestrator.launcher import Stack
from shared import telemetry
from shared.settings import Settings
from shared.tracing import TraceContext
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import small_refund_customers
from tests.tracing.conftest import OtlpReceiver, parent_id, span_id, trace_id

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0

# The child process: serve the payments system on the socket it inherited until stdin closes.
CHILD = """
import asyncio, os, socket, sys
from pathlib import Path
from mcp_servers import build_app
from shared.serving import start

async def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    app = build_app("payments", data_dir=Path(sys.argv[2]), gateway_token=os.environ["GATEWAY_TOKEN"])
    running = await start("mcp:payments", app, sock)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await running.stop()

asyncio.run(main())
"""


@dataclass
class PaymentsElsewhere(Stack):
    """The embedded stack, except that the payments MCP server runs in a child process."""

    otlp_endpoint: str = ""
    child: asyncio.subprocess.Process | None = field(default=None, repr=False)

    async def _start_group(self, apps: dict[str, ASGIApp], sockets: dict[str, socket.socket]) -> None:
        if "mcp:payments" in apps:
            apps = {name: app for name, app in apps.items() if name != "mcp:payments"}
            await self._spawn_payments(sockets["mcp:payments"])
        await super()._start_group(apps, sockets)

    async def _spawn_payments(self, sock: socket.socket) -> None:
        assert self.secrets is not None
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GATEWAY_TOKEN": self.secrets.gateway_token,
            telemetry.ENDPOINT_ENV: self.otlp_endpoint,
        }
        env.pop("OTEL_SERVICE_NAME", None)
        # stderr to a file: a pipe nobody reads could fill and block the child.
        with self._stderr_path().open("wb") as log:
            self.child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CHILD,
                str(sock.fileno()),
                str(self.settings.data_dir),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                pass_fds=(sock.fileno(),),
                cwd=ROOT,
                env=env,
            )
        sock.close()  # the child owns the listening socket now
        assert self.child.stdout is not None
        async with asyncio.timeout(WAIT):
            line = await self.child.stdout.readline()
        if line.strip() != b"ready":
            raise AssertionError(f"the payments process did not start: {await self._child_stderr()}")

    async def stop_child(self) -> None:
        """Close stdin: the child stops serving and, on exit, flushes its spans over OTLP."""
        if self.child is None or self.child.returncode is not None:
            return
        assert self.child.stdin is not None
        self.child.stdin.close()
        async with asyncio.timeout(WAIT):
            code = await self.child.wait()
        assert code == 0, await self._child_stderr()

    def _stderr_path(self) -> Path:
        return self.settings.data_dir.parent / "payments-process.log"

    async def _child_stderr(self) -> str:
        return self._stderr_path().read_text(errors="replace")[-3000:]


@pytest.fixture
async def split_stack(
    tmp_path: Path, otlp_receiver: OtlpReceiver, spans: InMemorySpanExporter
) -> AsyncIterator[PaymentsElsewhere]:
    stack = PaymentsElsewhere(
        Settings(data_dir=tmp_path / "data", customers=80, host="127.0.0.1"),
        ephemeral_ports=True,
        otlp_endpoint=otlp_receiver.url,
    )
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()
        if stack.child is not None and stack.child.returncode is None:
            stack.child.kill()
            await stack.child.wait()


def _one(found: list[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"expected one {what}, got {[s.name for s in found]}"
    return found[0]


async def test_one_trace_covers_a_refund_across_every_process_and_its_audit_records(
    split_stack: PaymentsElsewhere, spans: InMemorySpanExporter, otlp_receiver: OtlpReceiver
) -> None:
    assert split_stack.topology is not None
    running = RunningStack(split_stack, split_stack.topology, split_stack.data_dir)
    customer = small_refund_customers(split_stack.data_dir)[3]
    async with httpx.AsyncClient(base_url=split_stack.topology.orchestrator, timeout=30) as http:
        chat = await Chat(http, running).start()
        proposal = await chat.verify(customer, "I was charged twice, please refund the duplicate")
        assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
        spans.clear()
        # A channel in front of Switchboard sends its own W3C context: the turn joins that trace.
        caller = TraceContext.new()
        posted = await http.post(
            f"/api/conversations/{chat.conversation_id}/messages",
            json={"text": "yes please"},
            headers={"Authorization": f"Bearer {chat.token}", **caller.carrier()},
        )
        done = posted.json()
    assert done["status"] == "completed" and done["data"].get("refund_id"), done
    trace = done["trace_id"]
    assert trace == caller.trace_id

    # In this process: every span of the refund turn is in the turn's trace, and forms one tree.
    local = [s for s in spans.get_finished_spans() if trace_id(s) == trace]
    assert {trace_id(s) for s in spans.get_finished_spans()} == {trace}
    by_id = {span_id(s): s for s in local}
    root = _one([s for s in local if parent_id(s) not in by_id], "root span")
    assert parent_id(root) == caller.span_id  # continued from the incoming traceparent
    assert root.name == "POST /api/conversations/{conversation_id}/messages" and root.kind is SpanKind.SERVER
    assert dict(root.attributes or {}) | {"server.port": 0} == {
        "http.request.method": "POST",
        "url.path": f"/api/conversations/{chat.conversation_id}/messages",
        "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": 0,
        "http.route": "/api/conversations/{conversation_id}/messages",
        "http.response.status_code": 200,
    }

    def named(name: str, kind: SpanKind | None = None) -> list[ReadableSpan]:
        return [s for s in local if s.name == name and (kind is None or s.kind is kind)]

    turn = _one(named("customer_turn", SpanKind.INTERNAL), "turn span")
    assert parent_id(turn) == span_id(root)
    assert turn.attributes is not None and turn.attributes["gen_ai.conversation.id"] == chat.conversation_id
    route = _one(named("route"), "routing span")
    assert parent_id(route) == span_id(turn)
    assert route.attributes is not None and route.attributes["switchboard.route.brain"] == "offline"
    assert "switchboard.route.confidence" in route.attributes

    # The A2A handoff: the specialist's server span is the child of the supervisor's client span,
    # linked through the traceparent in the A2A message metadata.
    a2a_client = _one(named("invoke_agent payment", SpanKind.CLIENT), "A2A client span")
    a2a_server = _one(named("invoke_agent payment", SpanKind.SERVER), "A2A server span")
    assert parent_id(a2a_client) == span_id(turn)
    assert parent_id(a2a_server) == span_id(a2a_client)
    assert a2a_client.attributes is not None and a2a_server.attributes is not None
    assert a2a_client.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert a2a_client.attributes["rpc.method"] == "SendMessage"
    assert a2a_client.attributes["rpc.system.name"] == "jsonrpc"
    assert a2a_server.attributes["switchboard.skill"] == "refund-charge"

    # The agent's governed tool call, the gateway's decision, and the hop to the payments server.
    tool = _one(named("execute_tool payments.issue_refund"), "agent tool span")
    assert parent_id(tool) == span_id(a2a_server)
    agent_send = _one(named("MCP send tools/call payments.issue_refund", SpanKind.CLIENT), "agent MCP client span")
    assert parent_id(agent_send) == span_id(tool)
    gateway_server = _one(named("tools/call payments.issue_refund", SpanKind.SERVER), "gateway MCP server span")
    assert parent_id(gateway_server) == span_id(agent_send)
    decision = _one(
        [s for s in named("governance.decide") if parent_id(s) == span_id(gateway_server)], "governance span"
    )
    assert decision.attributes is not None
    assert decision.attributes["gen_ai.agent.name"] == "payment"
    assert decision.attributes["gen_ai.tool.name"] == "payments.issue_refund"
    assert decision.attributes["switchboard.governance.decision"] == "allow"
    assert list(decision.attributes["switchboard.governance.policy_ids"])  # type: ignore[arg-type]
    forward = _one(named("governance.forward payments.issue_refund"), "gateway forward span")
    assert parent_id(forward) == span_id(gateway_server)
    upstream_send = _one(named("MCP send tools/call issue_refund", SpanKind.CLIENT), "gateway upstream client span")
    assert parent_id(upstream_send) == span_id(forward)
    # The payments server is not in this process: none of its server spans were recorded here.
    assert not named("tools/call issue_refund", SpanKind.SERVER)

    # Each service reports its own name, though they share this process.
    def service_of(s: ReadableSpan) -> object:
        return s.resource.attributes.get("service.name")

    assert {service_of(s) for s in (root, turn, route, a2a_client)} == {"switchboard-orchestrator"}
    assert {service_of(s) for s in (a2a_server, tool, agent_send)} == {"switchboard-agent-payment"}
    assert {service_of(s) for s in (gateway_server, decision, forward, upstream_send)} == {"switchboard-gateway"}
    # No deprecated attribute names where the conventions have current ones.
    deprecated = {"rpc.system", "rpc.service", "gen_ai.system", "http.method", "http.status_code", "http.target"}
    assert not [(s.name, key) for s in local for key in (s.attributes or {}) if key in deprecated]

    # In the payments process: its span arrived over OTLP/HTTP, in the same trace, under the gateway's span.
    await split_stack.stop_child()
    async with asyncio.timeout(WAIT):
        await otlp_receiver.arrived.wait()
    remote = [s for s in otlp_receiver.spans if s.name == "tools/call issue_refund"]
    assert len(remote) == 1, [s.name for s in otlp_receiver.spans]
    assert remote[0].service == "switchboard-mcp-payments"
    assert remote[0].trace_id == trace
    assert remote[0].parent_span_id == span_id(upstream_send)
    assert remote[0].attributes["gen_ai.tool.name"] == "issue_refund"

    # The audit records of the refund turn carry the same trace id, decision and outcome alike.
    records = read_audit(split_stack.data_dir / "audit.db", conversation_id=chat.conversation_id, limit=1000)
    refund = [r for r in records if r.tool == "payments.issue_refund"]
    assert {r.kind for r in refund} == {"decision", "outcome"}
    assert {r.trace_id for r in refund} == {trace}
    assert decision.attributes["switchboard.audit.id"] in {r.id for r in refund}
    turn_records = [r for r in records if r.trace_id == trace]
    assert {r.tool for r in turn_records} >= {"payments.issue_refund"}
    # Earlier turns (verification, the proposal) had traces of their own.
    assert len({r.trace_id for r in records}) > 1
