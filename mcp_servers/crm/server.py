"""The CRM as an MCP server (customers keyed by email)."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    ConversationId,
    CustomerId,
    Email,
    IdempotencyKey,
    Label,
    Summary,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.crm.backend import CrmBackend, NewInteraction
from mcp_servers.crm.models import CustomerView, Interactions, LoggedInteraction, Profile, SentOffer, ServiceMessage
from shared.tools import PURPOSE_META_KEY

Channel = Literal["chat", "voice", "email", "store"]
OfferChannel = Literal["email", "sms"]


def build_server(backend: CrmBackend) -> MCPServer:
    server = MCPServer(
        "crm",
        version="1",
        instructions="Customer profiles and earlier conversations, by email.",
        log_level="WARNING",
    )
    by_email = tool_meta("email", "email")

    @server.tool(annotations=READ_ONLY, meta=by_email)
    async def get_profile(email: Email) -> Profile:
        """The customer's profile. Its plan_name is the CRM's copy: ask billing for the current plan."""
        return await act(backend.get_profile(email))

    @server.tool(annotations=READ_ONLY, meta=by_email)
    async def list_interactions(email: Email, limit: Annotated[int, Field(ge=1, le=50)] = 10) -> Interactions:
        """Earlier conversations with the customer on any channel, newest first."""
        return await act(backend.list_interactions(email, limit))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def log_interaction(
        email: Email,
        channel: Channel,
        topic: Label,
        summary: Summary,
        outcome: Label,
        conversation_id: ConversationId,
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> LoggedInteraction:
        """Record this conversation in the customer's history."""
        call = require_call_context(ctx)
        new = NewInteraction(email, channel, topic, summary, outcome, conversation_id)
        return await act(backend.log_interaction(new, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta={**by_email, PURPOSE_META_KEY: "marketing"})
    async def send_offer(
        email: Email, offer_id: Label, channel: OfferChannel, idempotency_key: IdempotencyKey, ctx: Context
    ) -> SentOffer:
        """Send the customer a marketing offer. Needs marketing consent and no open support case."""
        call = require_call_context(ctx)
        return await act(backend.send_offer(email, offer_id, channel, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def send_service_message(
        email: Email, channel: OfferChannel, text: Summary, idempotency_key: IdempotencyKey, ctx: Context
    ) -> ServiceMessage:
        """Tell the customer about their service (an outage, a fix). Not for offers: use send_offer."""
        call = require_call_context(ctx)
        return await act(backend.send_service_message(email, channel, text, idempotency_key, call))

    @server.tool(annotations=READ_ONLY, meta=tool_meta("customer_id", "customer_id"))
    async def get_customer_view(customer_id: CustomerId) -> CustomerView:
        """The customer as every system reported them a moment ago: plan, latest invoice, payment,
        refund, open tickets, consents and network signals. A null field: ask the source system."""
        return await act(backend.get_customer_view(customer_id))

    return server
