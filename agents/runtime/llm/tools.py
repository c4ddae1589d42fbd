"""The tools a model may call: exactly what the gateway lists for this agent, minus the identifiers.

The gateway answers ``tools/list`` per agent from policy, so the model is offered nothing the agent
may not call. Arguments that name the customer, the conversation or an idempotency key are removed
from the schemas the model sees and filled in by the runtime from the envelope: a model cannot
choose whose data it touches, and the gateway still checks every call against the auth context.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from shared.envelope import ContextEnvelope
from shared.llm.model import ToolSpec
from shared.tls import client_tls
from shared.tools import IDEMPOTENCY_ARG, READ_BATCH_TOOL

logger = logging.getLogger(__name__)

CUSTOMER_ARGS = ("customer_id", "email", "msisdn", "account_number")
BOUND_ARGS = frozenset({*CUSTOMER_ARGS, "conversation_id", IDEMPOTENCY_ARG})
_LISTING_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class GovernedTool:
    """A gateway tool as offered to a model."""

    catalog_name: str
    spec: ToolSpec
    read_only: bool
    bound: frozenset[str]


def function_name(catalog_name: str) -> str:
    """Function names may not contain dots at most providers: ``billing.get_account`` -> ``billing__get_account``."""
    return catalog_name.replace(".", "__")


def catalog_name(function: str) -> str:
    """The catalog name a function name stands for (the inverse of ``function_name``)."""
    return function.replace("__", ".")


def governed_tool(name: str, description: str, input_schema: Mapping[str, Any], read_only: bool) -> GovernedTool:
    schema = copy.deepcopy(dict(input_schema))
    properties: dict[str, Any] = schema.get("properties") or {}
    bound = frozenset(k for k in properties if k in BOUND_ARGS)
    schema["properties"] = {k: v for k, v in properties.items() if k not in bound}
    schema["required"] = [k for k in schema.get("required") or [] if k not in bound]
    schema.setdefault("type", "object")
    spec = ToolSpec(function_name(name), (description or name)[:1000], schema)
    return GovernedTool(name, spec, read_only, bound)


def bind_arguments(tool: GovernedTool, arguments: Mapping[str, Any], envelope: ContextEnvelope) -> dict[str, Any]:
    """The model's arguments with every identifier replaced by the envelope's own value.

    Whatever the model put in a bound argument is discarded; the idempotency key is left to
    ``Turn.call``, which derives it from the conversation and the step.
    """
    args = {k: v for k, v in arguments.items() if k not in BOUND_ARGS}
    keys = envelope.customer.keys if envelope.customer else None
    for name in tool.bound:
        if name == "conversation_id":
            args[name] = envelope.conversation_id
        elif name in CUSTOMER_ARGS and keys is not None and keys.get(name):
            args[name] = keys.get(name)
    return args


class Toolbox:
    """Lists this agent's tools from the gateway with the agent's own credential, and caches them."""

    def __init__(self, url: str, *, auth: httpx2.Auth, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._auth = auth
        self._timeout = timeout_seconds
        self._tools: dict[str, GovernedTool] = {}
        self._listed_at = -_LISTING_TTL_SECONDS
        self._lock = asyncio.Lock()

    async def tools(self) -> dict[str, GovernedTool]:
        """Tools by function name; listed once, then again every few minutes (policy may change)."""
        if self._tools and time.monotonic() - self._listed_at < _LISTING_TTL_SECONDS:
            return self._tools
        async with self._lock:
            if not self._tools or time.monotonic() - self._listed_at >= _LISTING_TTL_SECONDS:
                self._tools = await self._list()
                self._listed_at = time.monotonic()
        return self._tools

    async def _list(self) -> dict[str, GovernedTool]:
        found: dict[str, GovernedTool] = {}
        async with asyncio.timeout(self._timeout):
            async with (
                httpx2.AsyncClient(auth=self._auth, timeout=self._timeout, verify=client_tls()) as http,
                Client(streamable_http_client(self._url, http_client=http)) as client,
            ):
                cursor: str | None = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    for tool in page.tools:
                        if tool.name == READ_BATCH_TOOL:
                            continue  # a round-trip saver for procedures; the model calls tools one by one
                        read_only = bool(tool.annotations and tool.annotations.read_only_hint)
                        governed = governed_tool(tool.name, tool.description or "", tool.input_schema, read_only)
                        found[governed.spec.name] = governed
                    cursor = page.next_cursor
                    if not cursor:
                        break
        logger.info("model may use %d gateway tools", len(found))
        return found


class StaticToolbox:
    """A fixed set of tools (tests, and deployments that pin the listing)."""

    def __init__(self, tools: list[GovernedTool]) -> None:
        self._tools = {t.spec.name: t for t in tools}

    async def tools(self) -> dict[str, GovernedTool]:
        return self._tools
