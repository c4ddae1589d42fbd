"""network.request_port_in: bring a customer's number from another provider onto their SIM with us.

Added with ``switchboard new-tool``. The checks are the ones a recipient makes before it asks for a
move: the porting code is well formed (three letters, six digits) and is the one the number's
current provider issued, still within its 30 days (``donor_porting_codes``, the reference stand-in
for the porting hub); the number is a UK mobile number not already ours; the line that takes it is
not locked after a fraud report; the day is a working day the code still covers. Asking again for
a number already on its way to the same line answers with that request, whatever the key: a
customer who asks twice gets one move and one reference. The gateway allows the call only for a
customer verified at AAL2 and holds it for a person while the customer is on a fraud hold, like
every other write that moves a number. The tables come with revision 0008.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from mcp_servers.network.tools.lock_line import locked_reason
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

CODE_VALID_DAYS = 30
LATEST_DAYS = 30
_CODE = re.compile(r"^[A-Z]{3}[0-9]{6}$")
_UK_MOBILE = re.compile(r"^\+447[0-9]{9}$")

Number = Annotated[
    str, Field(min_length=8, max_length=20, description="the number to bring in, e.g. +447700901001 or 07700901001")
]
PortingCode = Annotated[
    str, Field(min_length=1, max_length=20, description="the porting code (PAC) the number's current provider gave")
]
PortDate = Annotated[
    str | None,
    Field(default=None, max_length=10, description="YYYY-MM-DD, a working day; none: the next working day"),
]


class PortInRequest(BaseModel):
    reference: str = Field(description="PORT-…: what the customer quotes to ask how it is going")
    msisdn: str = Field(description="the line with us whose SIM takes over the number")
    number: str = Field(description="the number being brought in, E.164")
    donor: str = Field(description="the provider the number comes from")
    port_date: str = Field(description="YYYY-MM-DD: the morning the number moves")
    status: str = Field(description="requested (the move is booked) or completed (the number is on the SIM)")
    requested_at: str
    already_requested: bool = Field(default=False, description="the number was already on its way to this line")


def normalise_number(number: str) -> str:
    """E.164 for a UK mobile number typed either way ("07700 901001", "+44 7700 901001")."""
    digits = re.sub(r"[\s().-]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("07"):
        digits = "+44" + digits[1:]
    return digits


def next_working_day(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def status_on(row: Any, today: date) -> str:
    """A booked move is complete from the morning of its day on."""
    return "completed" if row["status"] == "requested" and row["port_date"] <= today.isoformat() else row["status"]


def as_request(row: Any, today: date, *, already: bool = False) -> PortInRequest:
    return PortInRequest(
        reference=row["reference"],
        msisdn=row["msisdn"],
        number=row["number"],
        donor=row["donor"],
        port_date=row["port_date"],
        status=status_on(row, today),
        requested_at=row["requested_at"],
        already_requested=already,
    )


def _check_code(code: str) -> str:
    code = re.sub(r"\s", "", code).upper()
    if not _CODE.match(code):
        raise InvalidRequest(
            "that is not a porting code: a porting code is three letters then six digits, like ABC123456",
            hint="ask the customer to read the code again from their current provider's text",
        )
    return code


def _check_date(wanted: str | None, today: date, code_expires: date) -> date:
    earliest = next_working_day(today)
    latest = min(today + timedelta(days=LATEST_DAYS), code_expires)
    if wanted is None:
        return earliest
    try:
        day = date.fromisoformat(wanted)
    except ValueError:
        raise InvalidRequest("the date is not a date", hint="give it as YYYY-MM-DD") from None
    if day < earliest or day > latest or day.weekday() >= 5:
        raise InvalidRequest(
            f"the move can only be on a working day from {earliest.isoformat()} to {latest.isoformat()}",
            hint="ask the customer for a weekday in that range, or leave the date out for the earliest",
        )
    return day


async def request(
    backend: ReferenceBackend,
    msisdn: str,
    number: str,
    porting_code: str,
    port_date: str | None,
    key: str,
    call: CallContext,
) -> PortInRequest:
    code = _check_code(porting_code)
    number = normalise_number(number)
    if not _UK_MOBILE.match(number):
        raise InvalidRequest(
            f"{number} is not a UK mobile number", hint="ask for the number being moved, like 07700 900123"
        )

    async def write() -> dict[str, Any]:
        today = utcnow().date()
        if number == msisdn or await backend.fetchone("SELECT 1 FROM lines WHERE msisdn = ?", (number,)):
            raise InvalidRequest(f"{number} is already a number with us, so there is nothing to bring in")
        if await backend.fetchone("SELECT 1 FROM lines WHERE msisdn = ?", (msisdn,)) is None:
            raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
        lock = await locked_reason(backend, msisdn)
        if lock is not None:
            raise InvalidRequest(
                f"{msisdn} is locked after a fraud report ({lock}), so no number is moved onto it",
                hint="the fraud team must lift the lock first",
            )
        booked = await backend.fetchone(
            f"SELECT * FROM port_in_requests WHERE number = ? AND status = 'requested'{backend.lock_rows}", (number,)
        )
        if booked is not None and status_on(booked, today) == "requested":
            if booked["msisdn"] != msisdn:
                raise InvalidRequest(f"{number} is already being moved to another line")
            return as_request(booked, today, already=True).model_dump()
        donor = await backend.fetchone("SELECT * FROM donor_porting_codes WHERE number = ?", (number,))
        if donor is None or donor["code"] != code:
            raise InvalidRequest(
                f"the porting code {code} is not the one {number}'s current provider issued",
                hint="ask the customer to check the code and the number against their provider's text",
            )
        expires = today - timedelta(days=donor["age_days"]) + timedelta(days=CODE_VALID_DAYS)
        if expires < next_working_day(today):
            raise InvalidRequest(
                f"the porting code for {number} expired on {expires.isoformat()}",
                hint="the customer asks their current provider for a new code (it is free)",
            )
        day = _check_date(port_date, today, expires)
        row = {
            "reference": f"PORT-{secrets.token_hex(4).upper()}",
            "msisdn": msisdn,
            "number": number,
            "donor": donor["donor"],
            "port_date": day.isoformat(),
            "status": "requested",
            "requested_at": iso(utcnow()),
        }
        await backend.execute(
            "INSERT INTO port_in_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row.values(), call.agent, call.audit_id, call.conversation_id),
        )
        return as_request(row, today).model_dump()

    args = {"msisdn": msisdn, "number": number, "porting_code": code, "port_date": port_date}
    return PortInRequest.model_validate(await backend.idempotent("request_port_in", key, args, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="request_port_in", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def request_port_in(
        msisdn: Msisdn,
        number: Number,
        porting_code: PortingCode,
        idempotency_key: IdempotencyKey,
        ctx: Context,
        port_date: PortDate = None,
    ) -> PortInRequest:
        """Bring a number from another provider onto the line's SIM on a working day, with its porting code.

        Checked against the code the current provider issued (30 days). Refused for a number already
        ours or a line locked after a fraud report; a number already on its way answers with that request."""
        call = require_call_context(ctx)
        return await act(request(backend, msisdn, number, porting_code, port_date, idempotency_key, call))
