"""The one persistent MCP connection from a specialist to the governance gateway.

The connection lives in its own task so that calls from any request task share it and a
transport failure (gateway restarted, socket dropped) ends only that task: the next call
reconnects. Services start in any order, so a gateway that is not up yet is not an error
at start-up, only for the turn that needs it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx2
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CONNECTION_CLOSED, CallToolResult, RequestParamsMeta, TextContent, Tool
from pydantic import ValidationError

from shared import telemetry
from shared.deadline import DeadlinePassed, wait_for
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.mcp_calls import call_unchecked
from shared.service_auth import current_caller
from shared.serving import CLIENT_KEEP_ALIVE_SECONDS
from shared.skill_steps import STEP_META_KEY, StepClaim
from shared.tls import client_tls
from shared.tools import CALLER_META_KEY, READ_BATCH_TOOL, REFUSAL_META_KEY, retry_safe

logger = logging.getLogger(__name__)

_LIMITS = httpx2.Limits(max_keepalive_connections=64, keepalive_expiry=CLIENT_KEEP_ALIVE_SECONDS)

DENIED_PREFIX = "DENIED:"
"""A tool error starting with this is the gateway's policy decision, not a fault."""

APPROVAL_PREFIXES = ("APPROVAL_REQUIRED:", "PENDING_APPROVAL:", "APPROVAL:")
"""A tool error starting with one of these means the call waits for a human approval."""

# The gateway words a dead upstream in a sentence; these fragments catch the phrasings
# it and the MCP servers use without coupling to one exact message.
_UNAVAILABLE_MARKERS = (
    "unavailable",
    "not answering",
    "not responding",
    "did not answer",
    "timed out",
    "timeout",
    "unreachable",
    "connection refused",
)


@dataclass(frozen=True)
class ToolOutcome:
    """What one gateway call produced, already classified for the specialist."""

    tool: str
    kind: str  # ok | denied | approval | unavailable | error
    data: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    audit_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def classify(tool: str, result: CallToolResult) -> ToolOutcome:
    """Turn an MCP tool result into a ToolOutcome (pure: unit-testable without a server)."""
    meta = result.meta or {}
    audit = meta.get("switchboard/audit_id") or meta.get("switchboard/audit")
    audit_id = str(audit) if isinstance(audit, str | int) else None
    text = "\n".join(c.text for c in result.content if isinstance(c, TextContent)).strip()
    if not result.is_error:
        data = result.structured_content
        if data is None:
            data = _json_object(text)
        return ToolOutcome(tool, "ok", data=dict(data), audit_id=audit_id)
    if text.startswith(DENIED_PREFIX):
        return ToolOutcome(tool, "denied", message=text[len(DENIED_PREFIX) :].strip(), audit_id=audit_id)
    if text.startswith(APPROVAL_PREFIXES):
        # The gateway holds the call and runs it itself once a human approves; the data
        # carries the approval id so the conversation can be parked on it.
        refusal = meta.get(REFUSAL_META_KEY)
        data = dict(refusal) if isinstance(refusal, dict) else {}
        return ToolOutcome(tool, "approval", data=data, message=text.partition(":")[2].strip(), audit_id=audit_id)
    lowered = text.lower()
    if any(marker in lowered for marker in _UNAVAILABLE_MARKERS):
        return ToolOutcome(tool, "unavailable", message=text, audit_id=audit_id)
    return ToolOutcome(tool, "error", message=text, audit_id=audit_id)


RECONNECT_SECONDS = 2.0
"""How long a retry waits for a fresh connection after a dropped one (connect, initialize, list)."""


class _Dropped(Exception):
    """The connection to the gateway broke under a call (it may or may not have run)."""


async def _list_tools(client: Client) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools.update((t.name, t) for t in page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _json_object(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"items": parsed}


def _tool_attributes(outcome: ToolOutcome, envelope: ContextEnvelope) -> dict[str, Any]:
    return {
        telemetry.OPERATION: "execute_tool",
        telemetry.TOOL_NAME: outcome.tool,
        telemetry.CONVERSATION_ID: envelope.conversation_id,
        "switchboard.tool.outcome": outcome.kind,
        "switchboard.audit.id": outcome.audit_id,
    }


class GatewayClient:
    """Calls catalog tools (``<system>.<tool>``) through the governance gateway.

    Every call carries the context envelope in the request ``_meta``: the gateway binds the
    call to the verified customer from it. It also carries the token this agent's own A2A
    caller presented (``current_caller``), so the audit log names who the agent acted for.
    """

    def __init__(self, url: str, *, auth: httpx2.Auth, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._auth = auth
        self._timeout = timeout_seconds
        self._client: Client | None = None
        self._holder: asyncio.Task[None] | None = None
        self._release: asyncio.Event | None = None
        self._lock = asyncio.Lock()
        self._tools: dict[str, Tool] = {}
        """What the gateway lists for this agent: whether a call may be made again comes from here."""

    async def start(self) -> None:
        """Connect now if the gateway is up; otherwise the first call connects."""
        try:
            await self._connected()
        except Exception as exc:
            logger.warning("governance gateway not reachable at start-up (%s); will connect on first call", exc)

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop()

    async def call(
        self, tool: str, arguments: Mapping[str, Any], envelope: ContextEnvelope, *, scope: StepClaim | None = None
    ) -> ToolOutcome:
        """Call one tool; never raises for a downstream fault, returns kind="unavailable".

        ``scope`` names the skill step the call is made in; the gateway then allows only that
        step's tools.
        """
        with telemetry.span(f"execute_tool {tool}") as span:
            outcome = await self._call(tool, arguments, envelope, scope)
            if span is not None:
                telemetry.set_attributes(span, _tool_attributes(outcome, envelope))
                if outcome.kind in ("denied", "unavailable", "error"):
                    telemetry.set_error(span, outcome.kind, outcome.message[:200])
            return outcome

    async def call_many(
        self,
        calls: Sequence[tuple[str, Mapping[str, Any]]],
        envelope: ContextEnvelope,
        scope: StepClaim | None = None,
    ) -> list[ToolOutcome]:
        """Several reads in one round trip (``gateway.read_batch``); one outcome per call, in order.

        Each is decided and audited by the gateway on its own; when the batch itself fails (the
        gateway is down), every call gets that outcome.
        """
        batch = {"calls": [{"tool": tool, "arguments": dict(arguments)} for tool, arguments in calls]}
        with telemetry.span(f"execute_tool {READ_BATCH_TOOL}"):
            outcome = await self._call(READ_BATCH_TOOL, batch, envelope, scope)
        results = outcome.data.get("results") if outcome.kind == "ok" else None
        if not isinstance(results, list) or len(results) != len(calls):
            failed = outcome if outcome.kind != "ok" else ToolOutcome(READ_BATCH_TOOL, "error", message="bad batch")
            return [ToolOutcome(tool, failed.kind, message=failed.message) for tool, _ in calls]
        outcomes = []
        for (tool, _), raw in zip(calls, results, strict=True):
            try:
                outcomes.append(classify(tool, CallToolResult.model_validate(raw)))
            except ValidationError:
                outcomes.append(ToolOutcome(tool, "error", message="the gateway answered in an unexpected shape"))
        return outcomes

    async def _call(
        self, tool: str, arguments: Mapping[str, Any], envelope: ContextEnvelope, scope: StepClaim | None
    ) -> ToolOutcome:
        # With tracing on, the MCP client replaces the W3C keys with its own span's context.
        meta = {ENVELOPE_META_KEY: envelope.model_dump_json(), **envelope.trace.carrier()}
        if scope is not None:
            meta[STEP_META_KEY] = scope.model_dump_json()
        caller = current_caller.get()
        if caller is not None:
            meta[CALLER_META_KEY] = caller.token
        try:
            timeout = wait_for(envelope, self._timeout)
        except DeadlinePassed:
            return ToolOutcome(tool, "unavailable", message="not sent: the turn's deadline passed")
        try:
            return await self._call_once(tool, arguments, meta, timeout)
        except _Dropped as dropped:
            # A dead socket is not a dead gateway: reconnect, and make the call again when that
            # cannot do anything twice (a read, or a write with its idempotency key).
            known = self._tools.get(tool)
            if known is None or not retry_safe(known, arguments):
                logger.warning("governance gateway connection dropped under %s: %s", tool, dropped)
                return ToolOutcome(
                    tool, "unavailable", message="the governance gateway connection dropped; the call may have run"
                )
            logger.info("governance gateway connection dropped under %s (%s); retrying once", tool, dropped)
        try:
            # A gateway that is up accepts a new connection at once; one that does not is down.
            async with asyncio.timeout(min(timeout, RECONNECT_SECONDS)):
                await self._connected()
            return await self._call_once(tool, arguments, meta, timeout)
        except (_Dropped, TimeoutError, OSError, httpx2.HTTPError, ExceptionGroup) as dropped:
            logger.warning("governance gateway call %s failed twice: %s", tool, dropped)
            return ToolOutcome(tool, "unavailable", message="the governance gateway is not answering")

    async def _call_once(
        self, tool: str, arguments: Mapping[str, Any], meta: dict[str, Any], timeout: float
    ) -> ToolOutcome:
        """One attempt within ``timeout`` seconds; a broken connection is dropped and raised as ``_Dropped``."""
        client: Client | None = None
        try:
            async with asyncio.timeout(timeout):
                client = await self._connected()
                # The gateway checked the result against the schema it lists (``shared.mcp_calls``).
                result = await call_unchecked(client, tool, dict(arguments), meta=cast(RequestParamsMeta, meta))
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                await self._drop_if_current(client)
                raise _Dropped(exc.message) from None
            # A JSON-RPC error is the gateway answering: refusals are denials, the rest faults.
            if exc.code in (-31403, 403):
                return ToolOutcome(tool, "denied", message=exc.message)
            return ToolOutcome(tool, "unavailable", message=f"gateway error: {exc.message}")
        except TimeoutError:
            # Slow, not gone: a second try would only double the customer's wait.
            logger.warning("governance gateway call %s timed out", tool)
            await self._drop_if_current(client)
            return ToolOutcome(tool, "unavailable", message="the governance gateway is not answering")
        except (OSError, httpx2.HTTPError, ExceptionGroup) as exc:
            # The SDK runs the transport in the holder task, so a dead gateway reaches us as one
            # of these (or an MCPError above), never as a cancellation of the caller.
            await self._drop_if_current(client)
            raise _Dropped(repr(exc)) from None
        return classify(tool, result)

    async def _drop_if_current(self, client: Client | None) -> None:
        """Drop ``client``, unless a caller that shared it already replaced it with a fresh one."""
        async with self._lock:
            if client is None or client is self._client:
                await self._drop()

    async def _connected(self) -> Client:
        client = self._client
        if client is not None and self._holder is not None and not self._holder.done():
            return client
        async with self._lock:
            if self._client is not None and self._holder is not None and not self._holder.done():
                return self._client
            await self._drop()
            ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
            release = asyncio.Event()
            holder = asyncio.create_task(self._hold(ready, release), name="gateway-mcp-client")
            try:
                self._client = await ready
            except BaseException:
                holder.cancel()
                await asyncio.gather(holder, return_exceptions=True)
                raise
            self._holder, self._release = holder, release
            return self._client

    async def _hold(self, ready: asyncio.Future[Client], release: asyncio.Event) -> None:
        try:
            async with (
                httpx2.AsyncClient(auth=self._auth, timeout=self._timeout, limits=_LIMITS, verify=client_tls()) as http,
                Client(streamable_http_client(self._url, http_client=http)) as client,
            ):
                self._tools = await _list_tools(client)
                ready.set_result(client)
                await release.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))
            elif not release.is_set():
                logger.warning("governance gateway connection lost: %r", exc)

    async def _drop(self) -> None:
        holder, release = self._holder, self._release
        self._client = self._holder = self._release = None
        if holder is None or release is None:
            return
        release.set()
        await asyncio.gather(holder, return_exceptions=True)
