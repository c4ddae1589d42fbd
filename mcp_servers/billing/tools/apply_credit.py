"""billing.apply_credit: money off the customer's next bill, at most once per reference.

Added with ``switchboard new-tool``. A credit names what it makes good (``reference``, e.g. the
outage it compensates); a second credit with the same reference on the same number is refused,
whichever agent or channel asks, so one outage is compensated once. How much may be credited
without a person is the gateway's policy (``approval.credit-above-10``), not this system's.
The table comes with revision 0003.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend, pence, pounds
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

Amount = Annotated[float, Field(gt=0, le=1000, description="pounds, two decimals")]
Reason = Literal["outage", "goodwill", "billing-error"]
Reference = Annotated[str, Field(min_length=3, max_length=40, description="what the credit makes good, e.g. OUT-101")]


class Credit(BaseModel):
    credit_id: str
    msisdn: str
    amount: float
    currency: str = "GBP"
    reason: str
    reference: str
    applied_at: str
    shows_on: str = Field(description="the bill the credit is taken off (next_bill_date)")


async def apply(
    backend: ReferenceBackend, msisdn: str, amount: float, reason: str, reference: str, key: str, call: CallContext
) -> Credit:
    if round(amount, 2) != amount:
        raise InvalidRequest(f"{amount} has more than two decimals", hint="give pounds and pence, e.g. 12.50")

    async def write() -> dict[str, Any]:
        account = await backend.fetchone("SELECT next_bill_date FROM accounts WHERE msisdn = ?", (msisdn,))
        if account is None:
            raise NotFound(f"no billing account for {msisdn}", hint="use the customer's mobile number")
        earlier = await backend.fetchone(
            "SELECT credit_id, amount_pence FROM credits WHERE msisdn = ? AND reference = ?", (msisdn, reference)
        )
        if earlier is not None:
            raise InvalidRequest(
                f"{reference} was already credited on {msisdn} ({earlier['credit_id']}, "
                f"{pounds(earlier['amount_pence']):.2f} GBP)",
                hint="a reference is credited once",
            )
        credit = Credit(
            credit_id=f"CRD-{secrets.token_hex(4).upper()}",
            msisdn=msisdn,
            amount=amount,
            reason=reason,
            reference=reference,
            applied_at=iso(utcnow()),
            shows_on=str(account["next_bill_date"]),
        )
        await backend.execute(
            "INSERT INTO credits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                credit.credit_id,
                msisdn,
                pence(amount),
                reason,
                reference,
                credit.applied_at,
                call.agent,
                call.audit_id,
                call.conversation_id,
            ),
        )
        return credit.model_dump()

    args = {"msisdn": msisdn, "amount": amount, "reason": reason, "reference": reference}
    return Credit.model_validate(await backend.idempotent("apply_credit", key, args, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="apply_credit", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def apply_credit(
        msisdn: Msisdn,
        amount: Amount,
        reason: Reason,
        reference: Reference,
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> Credit:
        """Credit an amount to the customer's next bill (e.g. compensation for an outage), once per reference."""
        return await act(apply(backend, msisdn, amount, reason, reference, idempotency_key, require_call_context(ctx)))
