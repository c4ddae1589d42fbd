"""billing.close_account and billing.get_account_closure: closing a customer's account.

The account closes at the end of its notice period, with the exit fee for the months left in its
minimum term, both read from the contract here and never taken from a caller. Until then its
status is ``closing``. Policy holds every closure for a person's approval. Its table comes with
revision 0005.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend, pounds
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    IdempotencyKey,
    Msisdn,
    Sentence,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.billing.backend import months_between
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

DEFAULT_NOTICE_DAYS = 30


class AccountClosure(BaseModel):
    closure_id: str
    msisdn: str
    reason: str
    requested_at: str
    closes_on: str = Field(description="the last day of the notice period; the account closes then")
    exit_fee: float = Field(description="for the months left in the minimum term, in pounds; 0 when out of term")
    currency: str = "GBP"


class ClosureStatus(BaseModel):
    closing: bool
    closure: AccountClosure | None = None


def _closure(row: Any) -> AccountClosure:
    return AccountClosure(
        closure_id=row["closure_id"],
        msisdn=row["msisdn"],
        reason=row["reason"],
        requested_at=row["requested_at"],
        closes_on=row["closes_on"],
        exit_fee=pounds(row["exit_fee_pence"]),
    )


async def close(backend: ReferenceBackend, msisdn: str, reason: str, key: str, call: CallContext) -> AccountClosure:
    async def write() -> dict[str, Any]:
        account = await backend.fetchone(f"SELECT status FROM accounts WHERE msisdn = ?{backend.lock_rows}", (msisdn,))
        if account is None:
            raise NotFound(f"no billing account for {msisdn}", hint="use the customer's mobile number")
        if account["status"] != "active":
            raise InvalidRequest(f"the account for {msisdn} is {account['status']}", hint="it is closing already")
        contract = await backend.fetchone(
            "SELECT ends_on, exit_fee_per_month_pence, notice_days FROM contracts WHERE msisdn = ?", (msisdn,)
        )
        today = utcnow().date()
        notice = int(contract["notice_days"]) if contract else DEFAULT_NOTICE_DAYS
        left = months_between(today, date.fromisoformat(contract["ends_on"])) if contract else 0
        row = {
            "closure_id": f"CL-{secrets.token_hex(5).upper()}",
            "msisdn": msisdn,
            "reason": reason,
            "requested_at": iso(utcnow()),
            "closes_on": (today + timedelta(days=notice)).isoformat(),
            "exit_fee_pence": left * int(contract["exit_fee_per_month_pence"]) if contract else 0,
        }
        await backend.execute(
            "INSERT INTO account_closures (closure_id, msisdn, reason, requested_at, closes_on, exit_fee_pence,"
            " agent, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*row.values(), call.agent, call.audit_id),
        )
        await backend.execute("UPDATE accounts SET status = 'closing' WHERE msisdn = ?", (msisdn,))
        return _closure(row).model_dump()

    args = {"msisdn": msisdn, "reason": reason}
    return AccountClosure.model_validate(await backend.idempotent("close_account", key, args, write))


async def status(backend: ReferenceBackend, msisdn: str) -> ClosureStatus:
    row = await backend.fetchone("SELECT * FROM account_closures WHERE msisdn = ?", (msisdn,))
    return ClosureStatus(closing=row is not None, closure=_closure(row) if row is not None else None)


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(name="close_account", annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def close_account(
        msisdn: Msisdn, reason: Sentence, idempotency_key: IdempotencyKey, ctx: Context
    ) -> AccountClosure:
        """Close the account at the end of its notice period, with the exit fee for any months left in its term."""
        call = require_call_context(ctx)
        return await act(close(backend, msisdn, reason, idempotency_key, call))

    @server.tool(name="get_account_closure", annotations=READ_ONLY, meta=by_msisdn)
    async def get_account_closure(msisdn: Msisdn) -> ClosureStatus:
        """Whether the account is closing, and when, with the exit fee it was closed with."""
        return await act(status(backend, msisdn))
