"""billing.send_invoice_copy: email a copy of one of the customer's invoices to the billing contact on record.

The address is the billing system's own record for the line, never one a caller names, so a copy
cannot be sent anywhere else. The copy is a download link; each one is recorded with the agent
and audit record that asked for it. Its tables come with revision 0003.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from shared.errors import NotFound
from shared.tools import CallContext

InvoiceId = Annotated[str, Field(min_length=3, max_length=40, description="the invoice to send, e.g. INV-202611-00042")]


class InvoiceCopyRequest(BaseModel):
    msisdn: str
    invoice_id: str


class InvoiceCopy(BaseModel):
    """A copy sent: which invoice, where (masked), and the link it carries."""

    copy_id: str
    invoice_id: str
    period: str
    sent_to: str = Field(description="the billing email address on record, masked (a***@example.com)")
    link: str
    sent_at: str


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


async def send(backend: ReferenceBackend, request: InvoiceCopyRequest, key: str, call: CallContext) -> InvoiceCopy:
    async def write() -> dict[str, Any]:
        invoice = await backend.fetchone(
            "SELECT invoice_id, period FROM invoices WHERE invoice_id = ? AND msisdn = ?",
            (request.invoice_id, request.msisdn),
        )
        if invoice is None:
            raise NotFound(
                f"no invoice {request.invoice_id} on {request.msisdn}",
                hint="list the customer's invoices and use one of their ids",
            )
        contact = await backend.fetchone("SELECT email FROM billing_contacts WHERE msisdn = ?", (request.msisdn,))
        if contact is None:
            raise NotFound(
                f"no billing email address on record for {request.msisdn}",
                hint="the customer can download invoices in the app or on the website",
            )
        copy_id = f"IC-{secrets.token_hex(5).upper()}"
        link = f"https://my.northwind.example/invoices/{request.invoice_id}/{secrets.token_urlsafe(16)}"
        sent_at = iso(utcnow())
        await backend.execute(
            "INSERT INTO invoice_copies (copy_id, msisdn, invoice_id, sent_to, link, sent_at, agent, audit_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (copy_id, request.msisdn, request.invoice_id, contact["email"], link, sent_at, call.agent, call.audit_id),
        )
        return InvoiceCopy(
            copy_id=copy_id,
            invoice_id=request.invoice_id,
            period=invoice["period"],
            sent_to=mask_email(contact["email"]),
            link=link,
            sent_at=sent_at,
        ).model_dump()

    args = request.model_dump()
    return InvoiceCopy.model_validate(await backend.idempotent("send_invoice_copy", key, args, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="send_invoice_copy", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def send_invoice_copy(
        msisdn: Msisdn, invoice_id: InvoiceId, idempotency_key: IdempotencyKey, ctx: Context
    ) -> InvoiceCopy:
        """Email a copy of one of the line's invoices, as a download link, to the billing email address on record."""
        call = require_call_context(ctx)
        return await act(send(backend, InvoiceCopyRequest(msisdn=msisdn, invoice_id=invoice_id), idempotency_key, call))
