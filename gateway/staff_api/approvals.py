"""Staff handlers for held calls and escalated cases: list, read, approve, reject; record a case decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from gateway.oversight import oversight
from gateway.staff_api.common import Staff, parse_model
from shared.audit import digest

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.gateway import Gateway


class Decide(BaseModel):
    note: str | None = Field(default=None, max_length=500)
    seen: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    """The approval's ``view_digest`` as the person's screen showed it (optional for the CLI)."""


class CaseDecision(BaseModel):
    """A person's decision on an escalated case, made in the agent console (the orchestrator's)."""

    action: str = Field(pattern="^(take-over|hand-back|transfer|reassign|release)$")
    conversation_id: str = Field(min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    to: str | None = Field(default=None, max_length=64)
    seen: str = Field(pattern="^[0-9a-f]{64}$")
    """The digest of the case as the person's console showed it (its transcript)."""


async def list_approvals(
    request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
) -> Any:
    status = request.query_params.get("status")
    return {"approvals": [a.public() for a in await desk.approvals.latest(status)]}


async def get_approval(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    return (await desk.get(request.path_params["approval_id"])).public()


async def approve(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    decide = parse_model(Decide, body)
    approval_id = request.path_params["approval_id"]
    decided = await desk.approve(
        approval_id, who.name, decide.note, role=who.role, seen=decide.seen, shared_account=who.shared
    )
    return decided.public()


async def reject(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    decide = parse_model(Decide, body)
    approval_id = request.path_params["approval_id"]
    decided = await desk.reject(
        approval_id, who.name, decide.note, role=who.role, seen=decide.seen, shared_account=who.shared
    )
    return decided.public()


async def case_decision(
    request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
) -> Any:
    case = parse_model(CaseDecision, body)
    args = case.model_dump(exclude={"note", "seen"}, exclude_none=True)
    to = f" to {case.to}" if case.to else ""
    person = oversight(
        case.action, who.name, who.role, case.conversation_id, case.seen, case.note, shared_account=who.shared
    )
    await gateway.store.append(
        kind="decision",
        decision="allow",
        agent=f"staff:{who.name}",
        tool=f"governance.case-{case.action}",
        conversation_id=case.conversation_id,
        customer_id=case.customer_id,
        arguments=args,
        arguments_digest=digest(args),
        policy_ids=["staff-api"],
        reason=f"{case.action}{to} by {who.name}" + (f": {case.note}" if case.note else ""),
        oversight=person,
    )
    return {"recorded": case.action, "conversation_id": case.conversation_id}
