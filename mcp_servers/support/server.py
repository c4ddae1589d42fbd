"""Support as an MCP server: knowledge base, tickets (keyed by email) and handoffs to humans."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    ConversationId,
    Email,
    IdempotencyKey,
    Label,
    RecordId,
    Sentence,
    Summary,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.support.backend import HumanRequest, NewTicket, SupportBackend
from mcp_servers.support.models import Articles, Handoff, OpenedTicket, Tickets
from mcp_servers.support.orders import DeliveryOption, Order, Orders

Priority = Literal["low", "normal", "high", "urgent"]


def build_server(backend: SupportBackend) -> MCPServer:
    server = MCPServer(
        "support",
        version="1",
        instructions="Knowledge base, tickets and human handoffs.",
        log_level="WARNING",
    )
    by_email = tool_meta("email", "email")

    @server.tool(annotations=READ_ONLY, meta=tool_meta())
    async def search_knowledge(
        query: Annotated[str, Field(min_length=1, max_length=500)],
        limit: Annotated[int, Field(ge=1, le=10)] = 3,
    ) -> Articles:
        """Knowledge articles that match the customer's problem, best first."""
        return await act(backend.search_knowledge(query, limit))

    @server.tool(annotations=READ_ONLY, meta=by_email)
    async def list_tickets(email: Email, status: Literal["open", "closed", "any"] = "any") -> Tickets:
        """The customer's support tickets, newest first."""
        return await act(backend.list_tickets(email, status))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def open_ticket(
        email: Email,
        category: Label,
        summary: Summary,
        idempotency_key: IdempotencyKey,
        ctx: Context,
        priority: Priority = "normal",
        repeat_of: RecordId | None = None,
    ) -> OpenedTicket:
        """Open a support ticket; repeat_of names the earlier ticket or conversation it repeats."""
        call = require_call_context(ctx)
        new = NewTicket(email, category, summary, priority, repeat_of)
        return await act(backend.open_ticket(new, idempotency_key, call))

    # A handoff is about the conversation (a customer may not be verified yet); the gateway binds
    # it to the caller's conversation and requires the verified customer's email once there is one.
    @server.tool(annotations=IDEMPOTENT_WRITE, meta=tool_meta("conversation_id", "conversation"))
    async def request_human(
        conversation_id: ConversationId,
        reason: Sentence,
        summary: Summary,
        idempotency_key: IdempotencyKey,
        ctx: Context,
        priority: Priority = "normal",
        email: Email | None = None,
    ) -> Handoff:
        """Put the conversation in the human agents' queue. Email may be null before verification."""
        call = require_call_context(ctx)
        request = HumanRequest(conversation_id, reason, summary, priority, email)
        return await act(backend.request_human(request, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def close_ticket(
        email: Email, ticket_id: RecordId, idempotency_key: IdempotencyKey, ctx: Context
    ) -> OpenedTicket:
        """Close a resolved ticket."""
        call = require_call_context(ctx)
        return await act(backend.close_ticket(email, ticket_id, idempotency_key, call))

    @server.tool(annotations=READ_ONLY, meta=by_email)
    async def list_orders(email: Email) -> Orders:
        """The customer's orders for phones, SIMs and accessories, newest first, with delivery dates."""
        return await act(backend.list_orders(email))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def cancel_order(email: Email, order_id: RecordId, idempotency_key: IdempotencyKey, ctx: Context) -> Order:
        """Cancel an order that is still being prepared (not once it is with the courier)."""
        call = require_call_context(ctx)
        return await act(backend.cancel_order(email, order_id, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_email)
    async def change_delivery(
        email: Email, order_id: RecordId, delivery_option: DeliveryOption, idempotency_key: IdempotencyKey, ctx: Context
    ) -> Order:
        """Change how an order still being prepared is delivered: standard, next-day or collect-in-store."""
        call = require_call_context(ctx)
        return await act(backend.change_delivery(email, order_id, delivery_option, idempotency_key, call))

    return server
