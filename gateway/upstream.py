"""One persistent MCP client per enterprise system, owned by its own task.

The MCP client runs its transport in an anyio task group that must be entered and left
by the same task, and a transport failure tears that group down. So each upstream has an
owner task (``run``) that connects when asked, keeps the client open, and drops it when a
call saw the connection fail; callers only borrow the open client. An upstream that is
down at start-up is connected on first use instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any, cast

import httpx2
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT, CallToolResult, RequestParamsMeta, Tool

from shared.mcp_calls import ResultOutsideSchema, call_unchecked, check_result
from shared.serving import CLIENT_KEEP_ALIVE_SECONDS
from shared.tls import client_tls

logger = logging.getLogger(__name__)

_LIMITS = httpx2.Limits(max_keepalive_connections=64, keepalive_expiry=CLIENT_KEEP_ALIVE_SECONDS)


RECONNECT_SECONDS = 2.0
"""How long a retry waits for a fresh connection after a dropped one (connect, initialize, list)."""


class _Dropped(Exception):
    """The connection broke under a call: the upstream may or may not have carried it out."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UpstreamUnavailable(Exception):
    """The upstream did not answer: never connected, connection lost, or timed out."""

    def __init__(self, system: str, detail: str, *, maybe_sent: bool = False) -> None:
        super().__init__(f"{system}: {detail}")
        self.system = system
        self.detail = detail
        self.maybe_sent = maybe_sent


async def _list_all(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class UpstreamLink:
    """The gateway's connection to one upstream MCP server."""

    def __init__(
        self,
        system: str,
        url: str,
        *,
        auth: httpx2.Auth,
        timeout_seconds: float,
        on_tools: Callable[[str, list[Tool]], None],
    ) -> None:
        self.system = system
        self.url = url
        self._auth = auth  # a fresh service token for this system on every request
        self._timeout = timeout_seconds
        self._on_tools = on_tools
        self._client: Client | None = None
        self.status = "not connected"
        self.error = ""
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._attempt_done = asyncio.Event()
        self._closing = False

    @property
    def up(self) -> bool:
        return self._client is not None

    async def run(self) -> None:
        """The owner task: one connection attempt per wake-up, until ``close``."""
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            if not self._closing:
                await self._connect_and_hold()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._lost.set()

    def _finish_attempt(self) -> None:
        done, self._attempt_done = self._attempt_done, asyncio.Event()
        done.set()

    async def _connect_and_hold(self) -> None:
        self._lost.clear()
        try:
            async with AsyncExitStack() as stack:
                async with asyncio.timeout(self._timeout):
                    http = await stack.enter_async_context(
                        httpx2.AsyncClient(auth=self._auth, timeout=self._timeout, limits=_LIMITS, verify=client_tls())
                    )
                    client = await stack.enter_async_context(
                        Client(streamable_http_client(self.url, http_client=http), read_timeout_seconds=self._timeout)
                    )
                    tools = await _list_all(client)
                self._on_tools(self.system, tools)
                self._client, self.status, self.error = client, "up", ""
                logger.info("upstream %s connected: %d tools", self.system, len(tools))
                self._finish_attempt()
                # A transport failure cancels this wait through the client's task group.
                await self._lost.wait()
        except Exception as exc:
            self.status, self.error = "down", _describe(exc)
            logger.warning("upstream %s at %s is not answering: %s", self.system, self.url, self.error)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._closing or (task is not None and task.cancelling()):
                raise
            # The client's own task group was torn down by a transport failure.
            self.status, self.error = "down", "connection lost"
        finally:
            self._client = None
            self._finish_attempt()

    async def connect(self, *, timeout: float | None = None) -> Client:
        """The open client, connecting first if needed; raises UpstreamUnavailable."""
        client = self._client
        if client is not None:
            return client
        attempt = self._attempt_done
        self._wake.set()
        try:
            async with asyncio.timeout(timeout or self._timeout):
                await attempt.wait()
        except TimeoutError:
            raise UpstreamUnavailable(self.system, "connect timed out") from None
        if self._client is None:
            raise UpstreamUnavailable(self.system, self.error or "not connected")
        return self._client

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        meta: dict[str, Any],
        *,
        retry: bool = False,
        timeout: float | None = None,
    ) -> CallToolResult:
        """Forward one call; upstream tool errors come back as results, faults as UpstreamUnavailable.

        An answer outside the tool's listed output schema raises ``ResultOutsideSchema``: the system
        answered and the connection is fine, so it is neither reconnected nor made again.

        A dropped connection is reconnected at once. With ``retry`` (a read, or a write that carries
        its idempotency key) the call is then made once more, so a single dead socket never reaches
        the customer; without it the caller learns the call may have been carried out. ``timeout``
        (what is left of the customer's turn) shortens the link's own time-out.
        """
        wait = self._timeout if timeout is None else max(min(self._timeout, timeout), 0.0)
        try:
            return await self._call_once(tool, arguments, meta, wait)
        except _Dropped as dropped:
            if not retry:
                raise UpstreamUnavailable(self.system, dropped.detail, maybe_sent=True) from None
            logger.info("upstream %s dropped the connection (%s); retrying %s once", self.system, dropped.detail, tool)
        try:
            # A system that is up accepts a new connection at once; one that does not is down,
            # and the caller hears so now rather than after a second full time-out.
            await self.connect(timeout=min(wait, RECONNECT_SECONDS))
            return await self._call_once(tool, arguments, meta, wait)
        except _Dropped as dropped:
            raise UpstreamUnavailable(self.system, dropped.detail, maybe_sent=True) from None
        except UpstreamUnavailable as exc:
            # The first attempt may have been carried out, whatever stopped the second.
            raise UpstreamUnavailable(self.system, exc.detail, maybe_sent=True) from None

    async def _call_once(
        self, tool: str, arguments: dict[str, Any], meta: dict[str, Any], wait: float
    ) -> CallToolResult:
        client = await self.connect()
        try:
            async with asyncio.timeout(wait):
                result = await call_unchecked(client, tool, arguments, meta=cast(RequestParamsMeta, meta))
                await check_result(client, tool, result)
        except ResultOutsideSchema:
            # The system answered: the connection is fine, and the caller says what the answer was.
            raise
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                raise await self._dropped(client, exc.message) from None
            if exc.code == REQUEST_TIMEOUT:
                if self._client is client:
                    self._lost.set()
                raise UpstreamUnavailable(self.system, exc.message, maybe_sent=True) from None
            # The upstream answered with a protocol error (e.g. it refused the gateway):
            # the connection is fine, the call was not carried out.
            return CallToolResult.model_validate(
                {
                    "content": [{"type": "text", "text": f"the {self.system} system refused the call: {exc.message}"}],
                    "isError": True,
                }
            )
        except TimeoutError:
            # Slow, not gone: a second try would only double the wait.
            raise UpstreamUnavailable(self.system, "timed out", maybe_sent=True) from None
        except (Exception, asyncio.CancelledError) as exc:
            task = asyncio.current_task()
            if isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling():
                raise
            raise await self._dropped(client, _describe(exc)) from None
        return result

    async def _dropped(self, client: Client, detail: str) -> _Dropped:
        """Tear the broken ``client`` down and wait until it is gone, so the next call connects afresh.

        Calls that shared it fail together; only the first tears it down, and none touches the
        connection another caller may already have opened in its place.
        """
        if self._client is client:
            torn_down = self._attempt_done
            self._lost.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await torn_down.wait()
        return _Dropped(detail)

    def health(self) -> dict[str, Any]:
        return {"status": self.status, "url": self.url, **({"error": self.error} if self.error else {})}
