"""Staff handlers for the runtime controls: fraud holds and kill switches.

Setting either is immediate; lifting a hold or turning a switch off weakens a control and is
only a request until a second compliance person approves it (``weakening_api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from gateway.staff_api.common import Staff, audit_admin, parse_model
from gateway.state import GovernanceState, KillScope, kill_scope
from gateway.weakening import HOLD_LIFT, SWITCH_OFF
from gateway.weakening_api import desk_of, request_weakening
from shared.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.gateway import Gateway


class Hold(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


class KillSwitch(BaseModel):
    scope: KillScope
    target: str | None = Field(default=None, max_length=200)
    on: bool
    reason: str = Field(default="", max_length=300)
    minutes: int | None = None


async def holds(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    return {"fraud_holds": gateway.state.fraud_holds}


async def set_hold(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    customer_id = request.path_params["customer_id"]
    on = request.method == "POST"
    reason = parse_model(Hold, body).reason if on else "lifted"
    if not on and customer_id not in gateway.state.fraud_holds:
        raise NotFound(f"no fraud hold on {customer_id}")
    if not on:
        hold = gateway.state.fraud_holds[customer_id]
        detail = {"customer_id": customer_id, "reason": hold.get("reason"), "set_by": hold.get("set_by")}
        return await request_weakening(gateway, who, HOLD_LIFT, customer_id, detail, body, "lifting a fraud hold")
    await audit_admin(
        gateway,
        f"staff:{who.name}",
        "fraud-hold",
        {"customer_id": customer_id, "on": on, "reason": reason},
        "allow",
        f"fraud hold {'set' if on else 'lifted'} on {customer_id} by {who.name}: {reason}",
        customer_id=customer_id,
        person=who.decides(
            "fraud-hold", customer_id, {"fraud_hold": gateway.state.fraud_holds.get(customer_id)}, reason
        ),
        also=GovernanceState.hold_statements(customer_id, reason, who.name, on),
    )
    gateway.state.fraud_holds[customer_id] = {"reason": reason, "set_by": who.name}
    await desk_of(gateway).end_for(HOLD_LIFT, customer_id)
    return {"customer_id": customer_id, "fraud_hold": on}


async def switches(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    return {"kill_switches": gateway.state.kill_switches}


async def kill_switch(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    change = parse_model(KillSwitch, body)
    if change.scope != "all" and not change.target:
        raise InvalidRequest(f"a {change.scope} kill switch needs a target", hint="name the agent or the tool")
    scope = kill_scope(change.scope, change.target)
    if not change.on and scope not in gateway.state.kill_switches:
        raise NotFound(f"the kill switch {scope} is not on")
    if not change.on:
        detail = {"scope": scope, **gateway.state.kill_switches[scope]}
        return await request_weakening(gateway, who, SWITCH_OFF, scope, detail, body, "turning a kill switch off")
    await audit_admin(
        gateway,
        f"staff:{who.name}",
        "kill-switch",
        change.model_dump(),
        "allow",
        f"kill switch {scope} turned {'on' if change.on else 'off'} by {who.name}: {change.reason}",
        person=who.decides("kill-switch", scope, {"kill_switches": gateway.state.kill_switches}, change.reason),
        also=GovernanceState.switch_statements(scope, change.reason, who.name, change.on),
    )
    gateway.state.kill_switches[scope] = {"set_by": who.name, "reason": change.reason}
    await desk_of(gateway).end_for(SWITCH_OFF, scope)
    rejected = await desk.reject_killed(who.name, who.role, who.shared)
    return {"scope": scope, "on": change.on, "approvals_rejected": rejected}
