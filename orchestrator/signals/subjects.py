"""Which customer a network signal is about, resolved when the signal is accepted.

A carrier names a phone number; Switchboard's events name the unified customer id as their
subject, so every projection (the CRM's customer view, the gateway's) can key the change on
the customer without a lookup of its own. The number is resolved once, at the door, through
the governance gateway like every other read (as the ``reactions`` client, audited), with the
identity system as the system of record for numbers. A signal whose number cannot be resolved
right now is still accepted, without a subject: the gateway resolves numbers itself before it
acts on one, so enforcement never waits on this.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, cast

import httpx2

from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.service_auth import BearerAuth, TokenSource
from shared.service_auth.audiences import GATEWAY
from shared.tls import client_tls

if TYPE_CHECKING:
    from mcp_types import RequestParamsMeta

log = logging.getLogger("switchboard.signals")

RESOLVE_TOOL = "identity.resolve_customer"


class SubjectResolver(Protocol):
    async def __call__(self, msisdn: str, signal_id: str) -> str | None:
        """The unified customer id the number belongs to, or None when unknown or unreadable."""
        ...


class GatewaySubjects:
    """Resolves a number through the gateway, as the reactions client."""

    def __init__(self, gateway_mcp_url: str, tokens: TokenSource, *, timeout: float = 5.0) -> None:
        self._url = gateway_mcp_url
        self._auth = BearerAuth(tokens, GATEWAY)
        self._timeout = timeout

    async def __call__(self, msisdn: str, signal_id: str) -> str | None:
        envelope = ContextEnvelope(
            conversation_id=f"signal-{signal_id}", channel="api", handoff_reason="network signal"
        )
        # The MCP client is loaded on the first signal, not at every orchestrator start.
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        try:
            http = httpx2.AsyncClient(auth=self._auth, timeout=self._timeout, verify=client_tls())
            async with http, Client(streamable_http_client(self._url, http_client=http)) as client:
                meta = cast("RequestParamsMeta", {ENVELOPE_META_KEY: envelope.model_dump_json()})
                result = await client.call_tool(RESOLVE_TOOL, {"hint": msisdn}, meta=meta)
        except Exception as exc:  # the gateway or identity down: accept the signal without a subject
            log.warning("signal %s: its number could not be resolved now (%s)", signal_id, type(exc).__name__)
            return None
        found = result.structured_content.get("customer_id") if isinstance(result.structured_content, dict) else None
        return found if not result.is_error and isinstance(found, str) else None
