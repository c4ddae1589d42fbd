"""billing.apply_discount: take a percentage off the customer's monthly fee, to keep them.

Written with ``switchboard new-tool billing apply_discount`` and then turned from the scaffold's
read into a write: the typed input (``percent``, 1 to 50) is what policies read as
``context.args.percent``, the reference backend writes the discount once per idempotency key,
and how long a discount runs comes from the reference rows the revision loads
(``discount_terms``, one per plan).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend, pence, pounds
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from shared.errors import NotFound
from shared.tools import CallContext

Percent = Annotated[int, Field(ge=1, le=50, description="the share of the monthly fee taken off, in percent")]


class ApplyDiscountRequest(BaseModel):
    """What a caller asks for: a discount for one customer's line."""

    msisdn: Msisdn
    percent: Percent


class ApplyDiscount(BaseModel):
    """The discount as the billing system now holds it."""

    discount_id: str
    msisdn: str
    percent: int
    months: int
    monthly_fee_before: float
    monthly_fee_after: float
    ends_on: str


async def write(backend: ReferenceBackend, request: ApplyDiscountRequest, key: str, call: CallContext) -> ApplyDiscount:
    """The reference backend's write: one row of ``discounts``, once per key."""

    async def once() -> dict[str, object]:
        account = await backend.fetchone(
            f"SELECT a.plan_id, p.monthly_fee_pence FROM accounts a JOIN plans p ON p.plan_id = a.plan_id"
            f" WHERE a.msisdn = ?{backend.lock_rows}",
            (request.msisdn,),
        )
        if account is None:
            raise NotFound(f"no billing account for {request.msisdn}", hint="use the mobile number in E.164 form")
        terms = await backend.fetchone("SELECT months FROM discount_terms WHERE plan_id = ?", (account["plan_id"],))
        if terms is None:
            raise NotFound(f"no discount terms for plan {account['plan_id']}", hint="the plan takes no discounts")
        fee = int(account["monthly_fee_pence"])
        after = fee - round(fee * request.percent / 100)
        today = utcnow().date()
        discount = ApplyDiscount(
            discount_id=f"DS-{secrets.token_hex(5).upper()}",
            msisdn=request.msisdn,
            percent=request.percent,
            months=int(terms["months"]),
            monthly_fee_before=pounds(fee),
            monthly_fee_after=pounds(after),
            ends_on=(today + timedelta(days=30 * int(terms["months"]))).isoformat(),
        )
        await backend.execute(
            "INSERT INTO discounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                discount.discount_id,
                request.msisdn,
                request.percent,
                discount.months,
                pence(discount.monthly_fee_after),
                today.isoformat(),
                iso(utcnow()),
                call.agent,
                call.audit_id,
                call.conversation_id,
            ),
        )
        return discount.model_dump()

    args = {"msisdn": request.msisdn, "percent": request.percent}
    return ApplyDiscount.model_validate(await backend.idempotent("apply_discount", key, args, once))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="apply_discount", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def apply_discount(
        msisdn: Msisdn, percent: Percent, idempotency_key: IdempotencyKey, ctx: Context
    ) -> ApplyDiscount:
        """Take a percentage off the customer's monthly fee, for as many months as their plan's terms allow."""
        call = require_call_context(ctx)
        return await act(write(backend, ApplyDiscountRequest(msisdn=msisdn, percent=percent), idempotency_key, call))
