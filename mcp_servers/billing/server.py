"""Billing as an MCP server (accounts keyed by msisdn; the source of truth for plans)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    IdempotencyKey,
    Label,
    Msisdn,
    RecordId,
    Sentence,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.billing.backend import BillingBackend, NewInvoice
from mcp_servers.billing.models import Account, Contract, Entitlements, Invoice, Invoices, PlanChange, Plans

InvoiceLines = Annotated[
    list[tuple[Sentence, Annotated[float, Field(gt=0, le=10000)]]],
    Field(min_length=1, max_length=20, description="[description, amount in pounds] per line"),
]


def build_server(backend: BillingBackend) -> MCPServer:
    server = MCPServer(
        "billing",
        version="1",
        instructions="Plans, invoices and entitlements, by msisdn.",
        log_level="WARNING",
    )
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def get_account(msisdn: Msisdn) -> Account:
        """The billing account: current plan, status and balance due."""
        return await act(backend.get_account(msisdn))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def list_invoices(msisdn: Msisdn, limit: Annotated[int, Field(ge=1, le=24)] = 6) -> Invoices:
        """Recent invoices with their lines, newest first."""
        return await act(backend.list_invoices(msisdn, limit))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def get_contract(msisdn: Msisdn) -> Contract:
        """The minimum term: when it ends, months left and the fee to leave early today (a quote)."""
        return await act(backend.get_contract(msisdn))

    @server.tool(annotations=READ_ONLY, meta=tool_meta())
    async def list_plans() -> Plans:
        """Every plan on offer with its data allowance and features."""
        return await act(backend.list_plans())

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def get_entitlements(msisdn: Msisdn) -> Entitlements:
        """What the customer's current plan includes. Trust this over any other copy of the plan."""
        return await act(backend.get_entitlements(msisdn))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def change_plan(
        msisdn: Msisdn, plan_id: RecordId, idempotency_key: IdempotencyKey, ctx: Context
    ) -> PlanChange:
        """Move the customer to another plan, starting now."""
        call = require_call_context(ctx)
        return await act(backend.change_plan(msisdn, plan_id, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def issue_invoice(
        msisdn: Msisdn, period: Label, lines: InvoiceLines, idempotency_key: IdempotencyKey, ctx: Context
    ) -> Invoice:
        """Issue the period's invoice (the bill run); no agent is granted this."""
        call = require_call_context(ctx)
        new = NewInvoice(msisdn, period, tuple((text, amount) for text, amount in lines))
        return await act(backend.issue_invoice(new, idempotency_key, call))

    return server
