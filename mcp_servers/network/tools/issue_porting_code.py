"""network.issue_porting_code: the code (PAC) a customer gives a new provider to take their number.

Added with ``switchboard new-tool``. The network refuses a code for a line that is locked after a
fraud report or whose SIM changed in the last ten days: moving a number away is how a hijacked line
is kept, so those cases go to a person (the gateway also holds the call for a human while the
customer is on a fraud hold). A code is valid 30 days; asking again while it is valid gives the same
code. The table comes with revision 0005.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, live_time, parse_iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from mcp_servers.network.tools.lock_line import locked_reason
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

VALID_DAYS = 30
SIM_CHANGE_WAIT = timedelta(days=10)


class PortingCode(BaseModel):
    msisdn: str
    code: str = Field(description="nine characters: three letters, six digits")
    issued_at: str
    expires_on: str = Field(description="YYYY-MM-DD; the new provider must use it by then")


async def _recent_sim_change(backend: ReferenceBackend, msisdn: str) -> bool:
    row = await backend.fetchone(
        "SELECT l.last_sim_change, l.sim_change_age_minutes, s.sim_swapped_at FROM lines l"
        " LEFT JOIN line_signals s ON s.msisdn = l.msisdn WHERE l.msisdn = ?",
        (msisdn,),
    )
    if row is None:
        raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
    aged = live_time(row["sim_change_age_minutes"]) if row["sim_change_age_minutes"] is not None else None
    changes = [t for t in (aged or row["last_sim_change"], row["sim_swapped_at"]) if t]
    return any(parse_iso(t) >= utcnow() - SIM_CHANGE_WAIT for t in changes)


async def issue(backend: ReferenceBackend, msisdn: str, key: str, call: CallContext) -> PortingCode:
    async def write() -> dict[str, Any]:
        if await _recent_sim_change(backend, msisdn):
            raise InvalidRequest(
                f"the SIM on {msisdn} changed in the last 10 days, so no porting code is issued automatically",
                hint="a member of staff must confirm the customer before a code is issued",
            )
        lock = await locked_reason(backend, msisdn)
        if lock is not None:
            raise InvalidRequest(
                f"{msisdn} is locked after a fraud report ({lock}), so no porting code is issued",
                hint="the fraud team must lift the lock first",
            )
        now = utcnow()
        row = await backend.fetchone("SELECT * FROM porting_codes WHERE msisdn = ?", (msisdn,))
        if row is not None and row["expires_on"] >= now.date().isoformat():
            return PortingCode(
                msisdn=msisdn, code=row["code"], issued_at=row["issued_at"], expires_on=row["expires_on"]
            ).model_dump()
        letters = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
        code = PortingCode(
            msisdn=msisdn,
            code=f"{letters}{secrets.randbelow(10**6):06d}",
            issued_at=iso(now),
            expires_on=(now + timedelta(days=VALID_DAYS)).date().isoformat(),
        )
        await backend.execute(
            "INSERT INTO porting_codes VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO UPDATE SET"
            " code = excluded.code, issued_at = excluded.issued_at, expires_on = excluded.expires_on,"
            " agent = excluded.agent, audit_id = excluded.audit_id, conversation_id = excluded.conversation_id",
            (msisdn, code.code, code.issued_at, code.expires_on, call.agent, call.audit_id, call.conversation_id),
        )
        return code.model_dump()

    return PortingCode.model_validate(await backend.idempotent("issue_porting_code", key, {"msisdn": msisdn}, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="issue_porting_code", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def issue_porting_code(msisdn: Msisdn, idempotency_key: IdempotencyKey, ctx: Context) -> PortingCode:
        """Issue the porting code (PAC, valid 30 days) a customer gives a new provider to take their number.

        Refused for a line locked after a fraud report or whose SIM changed in the last 10 days."""
        return await act(issue(backend, msisdn, idempotency_key, require_call_context(ctx)))
