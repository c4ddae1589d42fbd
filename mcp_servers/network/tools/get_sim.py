"""network.get_sim and network.activate_sim: the line's SIM or eSIM, and switching a new one on.

Added with ``switchboard new-tool``. A new physical SIM is one the network sent (a replacement
after a lost phone, ``sim_orders``) and has not activated yet; an eSIM is a profile the network
issues on request, whose activation code the phone reads from a QR code or takes typed in. Either
becomes the line's SIM at once, and the old one stops working. Activations come with revision 0006.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._database import Row
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
from mcp_servers.network.tools.lock_line import locked_reason
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

SimType = Literal["physical", "esim"]
# Phones in the reference dataset that cannot hold an eSIM.
NO_ESIM = frozenset({"Nokia G42", "Moto G84"})


class WaitingSim(BaseModel):
    order_id: str
    status: str
    expected_delivery: str


class Sim(BaseModel):
    msisdn: str
    sim_status: str = Field(description="active, blocked or inactive")
    sim_type: SimType
    device_model: str
    esim_capable: bool = Field(description="the phone on record can hold an eSIM")
    waiting_sim: WaitingSim | None = Field(description="a new SIM sent to the customer and not yet activated")
    locked: bool = Field(description="locked after a fraud report: no SIM change until a person lifts it")


class Activation(BaseModel):
    activation_id: str
    msisdn: str
    sim_type: SimType
    sim_status: str
    order_id: str | None = Field(description="the SIM order activated (physical)")
    activation_code: str | None = Field(description="eSIM only: what the QR code holds, to type in if needed")
    activated_at: str


async def _line(backend: ReferenceBackend, msisdn: str) -> Row:
    row = await backend.fetchone("SELECT sim_status, device_model FROM lines WHERE msisdn = ?", (msisdn,))
    if row is None:
        raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
    return row


async def _waiting(backend: ReferenceBackend, msisdn: str) -> WaitingSim | None:
    row = await backend.fetchone(
        "SELECT o.order_id, o.status, o.expected_delivery FROM sim_orders o WHERE o.msisdn = ? AND NOT EXISTS"
        " (SELECT 1 FROM sim_activations a WHERE a.order_id = o.order_id) ORDER BY o.ordered_at DESC",
        (msisdn,),
    )
    return None if row is None else WaitingSim(**dict(row))


async def read(backend: ReferenceBackend, msisdn: str) -> Sim:
    line = await _line(backend, msisdn)
    latest = await backend.fetchone(
        "SELECT sim_type FROM sim_activations WHERE msisdn = ? ORDER BY activated_at DESC", (msisdn,)
    )
    return Sim(
        msisdn=msisdn,
        sim_status=line["sim_status"],
        sim_type=latest["sim_type"] if latest is not None else "physical",
        device_model=line["device_model"],
        esim_capable=line["device_model"] not in NO_ESIM,
        waiting_sim=await _waiting(backend, msisdn),
        locked=await locked_reason(backend, msisdn) is not None,
    )


async def activate(backend: ReferenceBackend, msisdn: str, sim_type: str, key: str, call: CallContext) -> Activation:
    if sim_type not in ("physical", "esim"):
        raise InvalidRequest(f"unknown SIM type {sim_type!r}", hint="use physical or esim")

    async def write() -> dict[str, Any]:
        await _line(backend, msisdn)
        if await locked_reason(backend, msisdn) is not None:
            raise InvalidRequest(
                f"{msisdn} is locked after a fraud report, so no SIM can be activated on it",
                hint="the fraud team must lift the lock first",
            )
        order_id, code = None, None
        if sim_type == "physical":
            waiting = await _waiting(backend, msisdn)
            if waiting is None:
                raise InvalidRequest(
                    f"no new SIM is waiting to be activated on {msisdn}",
                    hint="a SIM from a shop is activated by inserting it; or order a replacement first",
                )
            order_id = waiting.order_id
        else:
            code = f"LPA:1$smdp.northwind.example${secrets.token_hex(8).upper()}"
        now = iso(utcnow())
        activation = Activation(
            activation_id=f"ACT-{secrets.token_hex(4).upper()}",
            msisdn=msisdn,
            sim_type=sim_type,  # type: ignore[arg-type]  # checked against SimType above
            sim_status="active",
            order_id=order_id,
            activation_code=code,
            activated_at=now,
        )
        # A SIM change is a SIM change whoever made it: later SIM-swap checks (refunds, porting)
        # must see this one, so it replaces the line's recorded change.
        await backend.execute(
            "UPDATE lines SET sim_status = 'active', last_sim_change = ?, sim_change_age_minutes = NULL"
            " WHERE msisdn = ?",
            (now, msisdn),
        )
        await backend.execute(
            "INSERT INTO sim_activations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                activation.activation_id,
                msisdn,
                sim_type,
                order_id,
                now,
                call.agent,
                call.audit_id,
                call.conversation_id,
            ),
        )
        return activation.model_dump()

    args = {"msisdn": msisdn, "sim_type": sim_type}
    return Activation.model_validate(await backend.idempotent("activate_sim", key, args, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(name="get_sim", annotations=READ_ONLY, meta=by_msisdn)
    async def get_sim(msisdn: Msisdn) -> Sim:
        """The line's SIM: physical or eSIM, its status, whether the phone takes an eSIM, a new SIM waiting."""
        return await act(read(backend, msisdn))

    @server.tool(name="activate_sim", annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def activate_sim(
        msisdn: Msisdn, sim_type: SimType, idempotency_key: IdempotencyKey, ctx: Context
    ) -> Activation:
        """Make a new SIM the line's SIM now: the physical SIM we sent, or a new eSIM (returns its activation code).

        The old SIM stops working. Refused for a locked line."""
        return await act(activate(backend, msisdn, sim_type, idempotency_key, require_call_context(ctx)))
