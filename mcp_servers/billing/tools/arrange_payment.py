"""billing.arrange_payment and billing.get_payment_arrangement: an unpaid invoice paid in instalments.

One instalment is a single payment moved two weeks later (an extension); two or more are
monthly from two weeks after today. The amount must be what the invoice still owes, as the
billing system holds it: policy decides on the amount (and the number of instalments), so the
system refuses any other figure a caller names. At most one arrangement per invoice.
Its table comes with revision 0004.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend, pence, pounds
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    IdempotencyKey,
    Msisdn,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.billing.tools.send_invoice_copy import InvoiceId
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

MAX_INSTALMENTS = 12
FIRST_DUE_DAYS = 14
Instalments = Annotated[
    int, Field(ge=1, le=MAX_INSTALMENTS, description="1 moves the payment two weeks later; 2-12 monthly parts")
]
Amount = Annotated[float, Field(gt=0, le=10_000, description="what the invoice still owes, in pounds")]


class ArrangementRequest(BaseModel):
    msisdn: str
    invoice_id: str
    amount: float
    instalments: int


class Instalment(BaseModel):
    due_on: str
    amount: float


class PaymentArrangement(BaseModel):
    arrangement_id: str
    invoice_id: str
    amount: float
    currency: str = "GBP"
    instalments: int
    schedule: list[Instalment]
    created_at: str


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=min(day.day, 28))


def schedule(total_pence: int, instalments: int, first: date) -> list[Instalment]:
    """Equal parts to the penny; the first part carries what does not divide."""
    part, rest = divmod(total_pence, instalments)
    return [
        Instalment(due_on=_add_months(first, n).isoformat(), amount=pounds(part + (rest if n == 0 else 0)))
        for n in range(instalments)
    ]


def _arrangement(row: Any) -> PaymentArrangement:
    first = date.fromisoformat(row["first_due_on"])
    return PaymentArrangement(
        arrangement_id=row["arrangement_id"],
        invoice_id=row["invoice_id"],
        amount=pounds(row["amount_pence"]),
        instalments=row["instalments"],
        schedule=schedule(row["amount_pence"], row["instalments"], first),
        created_at=row["created_at"],
    )


async def arrange(
    backend: ReferenceBackend, request: ArrangementRequest, key: str, call: CallContext
) -> PaymentArrangement:
    async def write() -> dict[str, Any]:
        invoice = await backend.fetchone(
            "SELECT total_pence, status FROM invoices WHERE invoice_id = ? AND msisdn = ?",
            (request.invoice_id, request.msisdn),
        )
        if invoice is None:
            raise NotFound(f"no invoice {request.invoice_id} on {request.msisdn}", hint="list the invoices first")
        if invoice["status"] == "paid":
            raise InvalidRequest(f"invoice {request.invoice_id} is already paid", hint="nothing is owed on it")
        if pence(request.amount) != invoice["total_pence"]:
            raise InvalidRequest(
                f"invoice {request.invoice_id} owes {pounds(invoice['total_pence']):.2f}, not {request.amount:.2f}",
                hint="arrange what the invoice owes, as the billing system reads it",
            )
        taken = await backend.fetchone("SELECT 1 FROM payment_arrangements WHERE invoice_id = ?", (request.invoice_id,))
        if taken is not None:
            raise InvalidRequest(
                f"invoice {request.invoice_id} already has a payment arrangement", hint="read it instead"
            )
        row = {
            "arrangement_id": f"PA-{secrets.token_hex(5).upper()}",
            "invoice_id": request.invoice_id,
            "amount_pence": invoice["total_pence"],
            "instalments": request.instalments,
            "first_due_on": (utcnow().date() + timedelta(days=FIRST_DUE_DAYS)).isoformat(),
            "created_at": iso(utcnow()),
        }
        await backend.execute(
            "INSERT INTO payment_arrangements (arrangement_id, msisdn, invoice_id, amount_pence, instalments,"
            " first_due_on, created_at, agent, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["arrangement_id"],
                request.msisdn,
                request.invoice_id,
                row["amount_pence"],
                row["instalments"],
                row["first_due_on"],
                row["created_at"],
                call.agent,
                call.audit_id,
            ),
        )
        return _arrangement(row).model_dump()

    return PaymentArrangement.model_validate(
        await backend.idempotent("arrange_payment", key, request.model_dump(), write)
    )


class Arrangements(BaseModel):
    arrangements: list[PaymentArrangement] = Field(description="newest first")


async def read(backend: ReferenceBackend, msisdn: str) -> Arrangements:
    rows = await backend.fetchall(
        "SELECT * FROM payment_arrangements WHERE msisdn = ? ORDER BY created_at DESC", (msisdn,)
    )
    return Arrangements(arrangements=[_arrangement(r) for r in rows])


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(name="arrange_payment", annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def arrange_payment(
        msisdn: Msisdn,
        invoice_id: InvoiceId,
        amount: Amount,
        instalments: Instalments,
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> PaymentArrangement:
        """Spread an unpaid invoice over monthly instalments, or move its payment two weeks later (1)."""
        call = require_call_context(ctx)
        request = ArrangementRequest(msisdn=msisdn, invoice_id=invoice_id, amount=amount, instalments=instalments)
        return await act(arrange(backend, request, idempotency_key, call))

    @server.tool(name="list_payment_arrangements", annotations=READ_ONLY, meta=by_msisdn)
    async def list_payment_arrangements(msisdn: Msisdn) -> Arrangements:
        """The line's payment arrangements with their schedules, newest first."""
        return await act(read(backend, msisdn))
