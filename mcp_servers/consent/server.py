"""The consent registry as an MCP server (customers keyed by unified customer id).

Every workflow goes through it: the governance gateway reads a customer's granted purposes
(``get_purposes``) on every customer-scoped call, so a revoked consent takes effect on the very
next call.
"""

from __future__ import annotations

from typing import Literal

from mcp.server.mcpserver import Context, MCPServer

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    CustomerId,
    IdempotencyKey,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.consent.backend import ConsentBackend
from mcp_servers.consent.models import ConsentChange, Consents, GrantedPurposes
from shared.tools import CONSENT_MANAGEMENT_PURPOSE, PURPOSE_META_KEY

Purpose = Literal["account-servicing", "payments", "marketing", "call-recording", "ai-processing"]


def build_server(backend: ConsentBackend) -> MCPServer:
    server = MCPServer(
        "consent",
        version="1",
        instructions="The customer's consent purposes, by unified customer id.",
        log_level="WARNING",
    )
    # Reading or changing consent needs no prior consent: a customer must always be able to revoke.
    meta = {**tool_meta("customer_id", "customer_id"), PURPOSE_META_KEY: CONSENT_MANAGEMENT_PURPOSE}

    @server.tool(annotations=READ_ONLY, meta=meta)
    async def get_consents(customer_id: CustomerId) -> Consents:
        """Every purpose the customer has granted or refused, and the granted list."""
        return await act(backend.get_consents(customer_id))

    @server.tool(annotations=READ_ONLY, meta=meta)
    async def get_purposes(customer_id: CustomerId) -> GrantedPurposes:
        """Only the purposes the customer has granted: what the gateway reads before every call."""
        return await act(backend.get_purposes(customer_id))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=meta)
    async def grant_consent(
        customer_id: CustomerId, purpose: Purpose, idempotency_key: IdempotencyKey, ctx: Context
    ) -> ConsentChange:
        """Record that the customer consents to ``purpose``."""
        call = require_call_context(ctx)
        return await act(backend.set_consent(customer_id, purpose, True, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=meta)
    async def revoke_consent(
        customer_id: CustomerId, purpose: Purpose, idempotency_key: IdempotencyKey, ctx: Context
    ) -> ConsentChange:
        """Record that the customer withdraws consent to ``purpose``; effective on the next call."""
        call = require_call_context(ctx)
        return await act(backend.set_consent(customer_id, purpose, False, idempotency_key, call))

    return server
