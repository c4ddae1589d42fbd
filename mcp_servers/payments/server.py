"""Payments as an MCP server (card charges and refunds, keyed by account number)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    AccountNumber,
    IdempotencyKey,
    RecordId,
    Sentence,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.payments.backend import PaymentsBackend, RefundRequest
from mcp_servers.payments.methods import PaymentMethod
from mcp_servers.payments.models import Charge, Charges, Duplicates, Refund, Refunds
from shared.tools import FACTS_META_KEY, INTERNAL_META_KEY, RefundFacts

Amount = Annotated[float, Field(gt=0, le=10_000, description="in pounds, e.g. 12.50")]


def build_server(backend: PaymentsBackend) -> MCPServer:
    server = MCPServer(
        "payments",
        version="1",
        instructions="Card charges and refunds, by account number.",
        log_level="WARNING",
    )
    by_account = tool_meta("account_number", "account_number")
    # The gateway reads these facts before deciding a refund; policy decides on them.
    refund_meta = {**by_account, FACTS_META_KEY: {"tool": "refund_facts", "args": ["account_number", "charge_id"]}}

    @server.tool(annotations=READ_ONLY, meta=by_account)
    async def list_charges(account_number: AccountNumber, limit: Annotated[int, Field(ge=1, le=50)] = 10) -> Charges:
        """Card charges on the account, newest first, with what was refunded."""
        return await act(backend.list_charges(account_number, limit))

    @server.tool(annotations=READ_ONLY, meta=by_account)
    async def find_duplicate_charges(account_number: AccountNumber) -> Duplicates:
        """Charges that paid an invoice a second time and are not yet fully refunded."""
        return await act(backend.find_duplicate_charges(account_number))

    @server.tool(annotations=READ_ONLY, meta=by_account)
    async def refund_facts(account_number: AccountNumber, charge_id: RecordId) -> RefundFacts:
        """Whether a charge may be refunded without a human: duplicate or error flag, refunds so far."""
        return await act(backend.refund_facts(account_number, charge_id))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=refund_meta)
    async def issue_refund(
        account_number: AccountNumber,
        charge_id: RecordId,
        amount: Amount,
        reason: Sentence,
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> Refund:
        """Refund (part of) a charge to the card that paid it. The same key never refunds twice."""
        call = require_call_context(ctx)
        request = RefundRequest(account_number, charge_id, amount, reason)
        return await act(backend.issue_refund(request, idempotency_key, call))

    @server.tool(annotations=READ_ONLY, meta=by_account)
    async def list_refunds(account_number: AccountNumber) -> Refunds:
        """Refunds issued on the account, newest first."""
        return await act(backend.list_refunds(account_number))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta={**by_account, INTERNAL_META_KEY: True})
    async def record_payment(
        account_number: AccountNumber,
        invoice_id: RecordId,
        amount: Amount,
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> Charge:
        """Record a settled card payment for an invoice (the card processor's report); no agent is granted this."""
        call = require_call_context(ctx)
        return await act(backend.record_payment(account_number, invoice_id, amount, idempotency_key, call))

    @server.tool(annotations=READ_ONLY, meta=by_account)
    async def get_payment_method(account_number: AccountNumber) -> PaymentMethod:
        """The card on file (last four digits, expiry, whether it has expired) and whether autopay is on."""
        return await act(backend.get_payment_method(account_number))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_account)
    async def set_autopay(
        account_number: AccountNumber, enabled: bool, idempotency_key: IdempotencyKey, ctx: Context
    ) -> PaymentMethod:
        """Switch automatic payment of each invoice from the card on file on or off."""
        call = require_call_context(ctx)
        return await act(backend.set_autopay(account_number, enabled, idempotency_key, call))

    return server
