"""The governance HTTP API under ``/governance``: approvals and the privileged switches.

Callers are staff, authenticated by bearer tokens that carry a role:
- ``agent``: a human agent at the console: list, read, approve and reject approvals;
- ``approver``: list, read, approve and reject approvals;
- ``compliance``: read everything, set policy modes, set and lift fraud holds, erase a
  customer's raw audit values, approve a colleague's weakening of a control;
- ``admin``: everything, including the kill switch.
Weakening a control (a protective policy to log-only, lifting a fraud hold, a kill switch off)
is only a request until a second compliance person approves it, and then lasts its minutes
(``weakening``; the routes are in ``weakening_api``).
An agent's token is refused here (and the attempt audited): the requester of an approval can
never approve it. Every change is a chained audit record naming the staff member, their note and
the digest of what they saw (``oversight``); ``POST /governance/oversight`` is how the agent
console records a person's case decisions (take over, hand back, transfer, reassign, release).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.approval_flow import ApprovalDesk
from gateway.audit_store import Statement
from gateway.gateway import Gateway
from gateway.oversight import oversight, seen_digest
from gateway.policy_reload import fingerprint, load_checked, put_in_force, weakened_by
from gateway.retention import apply as apply_retention
from gateway.state import GovernanceState, KillScope, kill_scope
from gateway.weakening import HOLD_LIFT, POLICY_LOG_ONLY, POLICY_RELOAD, SWITCH_OFF
from gateway.weakening_api import approve_change, desk_of, list_changes, reject_change, request_weakening
from shared.audit import Oversight, digest
from shared.errors import (
    ConfigurationError,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    SwitchboardError,
    Unauthenticated,
)
from shared.jsonbody import parse_json_object

MAX_BODY = 16 * 1024
READ_ROLES = frozenset({"agent", "supervisor", "approver", "compliance", "admin"})
APPROVE_ROLES = frozenset({"agent", "supervisor", "approver", "admin"})
COMPLIANCE_ROLES = frozenset({"compliance", "admin"})
ADMIN_ROLES = frozenset({"admin"})


class Decide(BaseModel):
    note: str | None = Field(default=None, max_length=500)
    seen: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    """The approval's ``view_digest`` as the person's screen showed it (optional for the CLI)."""


class Identifiers(BaseModel):
    identifiers: list[str] = Field(default_factory=list, max_length=10)
    """The customer's email, phone and account number: raw values recorded before they were known."""


class CaseDecision(BaseModel):
    """A person's decision on an escalated case, made in the agent console (the orchestrator's)."""

    action: str = Field(pattern="^(take-over|hand-back|transfer|reassign|release)$")
    conversation_id: str = Field(min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    to: str | None = Field(default=None, max_length=64)
    seen: str = Field(pattern="^[0-9a-f]{64}$")
    """The digest of the case as the person's console showed it (its transcript)."""


class PolicyMode(BaseModel):
    mode: str = Field(pattern="^(enforce|log-only)$")
    minutes: int | None = None
    reason: str | None = None


class Hold(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


class KillSwitch(BaseModel):
    scope: KillScope
    target: str | None = Field(default=None, max_length=200)
    on: bool
    reason: str = Field(default="", max_length=300)
    minutes: int | None = None


class Staff:
    def __init__(self, name: str, role: str, shared: bool = False) -> None:
        self.name, self.role, self.shared = name, role, shared

    def decides(self, action: str, target: str, seen: Any, note: str | None = None) -> Oversight:
        """This person's decision, for the chain."""
        return oversight(action, self.name, self.role, target, seen_digest(seen), note, shared_account=self.shared)


def build_staff_routes(
    holder: Callable[[], tuple[Gateway, ApprovalDesk]],
    staff_tokens: Mapping[str, Mapping[str, str]],
    service_agent: Callable[[str], Awaitable[str | None]],
) -> list[Route]:
    staff = [
        (name, cred["token"].encode(), cred["role"], bool(cred.get("shared"))) for name, cred in staff_tokens.items()
    ]

    async def authenticate(request: Request, roles: frozenset[str], action: str) -> Staff:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        presented = token.strip().encode()
        if scheme.lower() != "bearer" or not presented:
            raise Unauthenticated("staff credentials are required", hint="send Authorization: Bearer <staff token>")
        found = None
        for name, expected, role, shared in staff:
            if hmac.compare_digest(presented, expected):
                found = Staff(name, role, shared)
        if found is None:
            agent = await service_agent(presented.decode())
            if agent is not None:
                gateway, _ = holder()
                await _audit_admin(gateway, f"agent:{agent}", action, {}, "deny", "agents may not use the staff API")
                raise Forbidden("agents may not use the governance staff API; a human must decide")
            raise Unauthenticated("unknown staff token", hint="use a staff token from the deployment's secrets")
        if found.role not in roles:
            raise Forbidden(f"role {found.role!r} may not {action}", hint=f"needs one of {', '.join(sorted(roles))}")
        return found

    def endpoint(
        roles: frozenset[str], action: str, handler: Callable[..., Awaitable[Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                who = await authenticate(request, roles, action)
                gateway, desk = holder()
                body = await _body(request) if request.method in ("POST", "PUT", "DELETE") else {}
                answer = await handler(request, who, gateway, desk, body)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            except SwitchboardError as exc:
                return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

        return run

    async def list_approvals(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        status = request.query_params.get("status")
        return {"approvals": [a.public() for a in await desk.approvals.latest(status)]}

    async def get_approval(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        return (await desk.get(request.path_params["approval_id"])).public()

    async def approve(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        decide = _model(Decide, body)
        approval_id = request.path_params["approval_id"]
        decided = await desk.approve(
            approval_id, who.name, decide.note, role=who.role, seen=decide.seen, shared_account=who.shared
        )
        return decided.public()

    async def reject(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        decide = _model(Decide, body)
        approval_id = request.path_params["approval_id"]
        decided = await desk.reject(
            approval_id, who.name, decide.note, role=who.role, seen=decide.seen, shared_account=who.shared
        )
        return decided.public()

    async def case_decision(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        case = _model(CaseDecision, body)
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

    async def policies(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        return {"policies": gateway.policy.modes()}

    async def set_mode(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        policy_id = request.path_params["policy_id"]
        mode = _model(PolicyMode, body).mode
        if policy_id not in gateway.policy.modes():
            raise NotFound(f"no policy {policy_id!r}", hint="GET /governance/policies lists them")
        if mode == "log-only" and gateway.policy.protective(policy_id):
            detail = {"policy_id": policy_id, "mode": gateway.policy.modes()[policy_id]}
            return await request_weakening(gateway, who, POLICY_LOG_ONLY, policy_id, detail, body, "log-only")
        await _audit_admin(
            gateway,
            f"staff:{who.name}",
            "policy-mode",
            {"policy_id": policy_id, "mode": mode},
            "allow",
            f"policy {policy_id} set to {mode} by {who.name}",
            person=who.decides(
                "policy-mode", policy_id, {"policy_id": policy_id, "mode": gateway.policy.modes()[policy_id]}
            ),
            also=GovernanceState.mode_statements(policy_id, mode, who.name),
        )
        gateway.policy.set_mode(policy_id, mode)
        gateway.state.policy_modes[policy_id] = mode
        if mode == "enforce":
            await desk_of(gateway).end_for(POLICY_LOG_ONLY, policy_id)
        return {"policy_id": policy_id, "mode": mode}

    async def reload_policies(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        """Read the policy folder again; a file that fails validation changes nothing and says why.

        A reload that removes or weakens a protective policy is a four-eyes request (``policy_reload``)."""
        engine = gateway.policy
        kept = len(engine.modes())
        try:
            fresh, _ = await load_checked(gateway)
        except ConfigurationError as exc:
            why = f"the policy files were not loaded, the {kept} policies in force stay: {exc.message}"
            await _audit_admin(gateway, f"staff:{who.name}", "policy-reload", {}, "deny", why)
            raise InvalidRequest(why, hint=exc.hint) from None
        weakens = weakened_by(engine, fresh)
        if weakens["removed"] or weakens["weakened"]:
            detail = {**weakens, "fingerprint": fingerprint(fresh), "in_force": fingerprint(engine)}
            what = "a reload that removes or weakens a protective policy"
            return await request_weakening(gateway, who, POLICY_RELOAD, "policy-files", detail, body, what)
        put_in_force(gateway, fresh)
        modes = engine.modes()
        await _audit_admin(
            gateway,
            f"staff:{who.name}",
            "policy-reload",
            {"policies": sorted(modes)},
            "allow",
            f"{len(modes)} policies loaded from the policy folder by {who.name}",
        )
        return {"reloaded": True, "policies": modes}

    async def holds(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        return {"fraud_holds": gateway.state.fraud_holds}

    async def set_hold(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        customer_id = request.path_params["customer_id"]
        on = request.method == "POST"
        reason = _model(Hold, body).reason if on else "lifted"
        if not on and customer_id not in gateway.state.fraud_holds:
            raise NotFound(f"no fraud hold on {customer_id}")
        if not on:
            hold = gateway.state.fraud_holds[customer_id]
            detail = {"customer_id": customer_id, "reason": hold.get("reason"), "set_by": hold.get("set_by")}
            return await request_weakening(gateway, who, HOLD_LIFT, customer_id, detail, body, "lifting a fraud hold")
        await _audit_admin(
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

    async def kill_switch(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        change = _model(KillSwitch, body)
        if change.scope != "all" and not change.target:
            raise InvalidRequest(f"a {change.scope} kill switch needs a target", hint="name the agent or the tool")
        scope = kill_scope(change.scope, change.target)
        if not change.on and scope not in gateway.state.kill_switches:
            raise NotFound(f"the kill switch {scope} is not on")
        if not change.on:
            detail = {"scope": scope, **gateway.state.kill_switches[scope]}
            return await request_weakening(gateway, who, SWITCH_OFF, scope, detail, body, "turning a kill switch off")
        await _audit_admin(
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

    async def erase(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
        customer_id = request.path_params["customer_id"]
        identifiers = _model(Identifiers, body).identifiers
        erased = await gateway.store.erase_customer(customer_id, tuple(identifiers))
        await desk.approvals.erase_customer(customer_id)
        await gateway.store.forget_erased()
        await _audit_admin(
            gateway,
            f"staff:{who.name}",
            "erase-customer",
            {"customer_id": customer_id},
            "allow",
            f"raw audit values of {customer_id} erased by {who.name} ({erased} records)",
            customer_id=customer_id,
            person=who.decides("erase-customer", customer_id, {"customer_id": customer_id, "records": erased}),
        )
        return {"customer_id": customer_id, "records_erased": erased}

    async def subject_access(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        """Recorded before anything is read: the log shows who took a customer's data out, and why."""
        customer_id = request.path_params["customer_id"]
        reason = _model(Hold, body).reason
        await _audit_admin(
            gateway,
            f"staff:{who.name}",
            "subject-access",
            {"customer_id": customer_id, "reason": reason},
            "allow",
            f"subject access export of {customer_id} by {who.name}: {reason}",
            customer_id=customer_id,
            person=who.decides("subject-access", customer_id, {"customer_id": customer_id}, reason),
        )
        return {"customer_id": customer_id, "recorded": True}

    async def retention(
        request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]
    ) -> Any:
        """Prune the audit data classes that expired now, as configured (also done on a schedule)."""
        configured = gateway.retention
        if configured is None or not configured.due():
            return {"raw_arguments": 0, "records": 0, "configured": False}
        pruned = await apply_retention(gateway.store, configured)
        return {"raw_arguments": pruned.raw_arguments, "records": pruned.records, "first_kept": pruned.first_kept}

    p = "/governance"
    return [
        Route(f"{p}/retention", endpoint(COMPLIANCE_ROLES, "apply retention", retention), methods=["POST"]),
        Route(f"{p}/approvals", endpoint(READ_ROLES, "list approvals", list_approvals), methods=["GET"]),
        Route(f"{p}/approvals/{{approval_id}}", endpoint(READ_ROLES, "read approvals", get_approval), methods=["GET"]),
        Route(f"{p}/approvals/{{approval_id}}/approve", endpoint(APPROVE_ROLES, "approve", approve), methods=["POST"]),
        Route(f"{p}/approvals/{{approval_id}}/reject", endpoint(APPROVE_ROLES, "reject", reject), methods=["POST"]),
        Route(f"{p}/oversight", endpoint(APPROVE_ROLES, "record a case decision", case_decision), methods=["POST"]),
        Route(f"{p}/policies", endpoint(READ_ROLES, "read policies", policies), methods=["GET"]),
        Route(f"{p}/changes", endpoint(READ_ROLES, "read control changes", list_changes), methods=["GET"]),
        Route(
            f"{p}/changes/{{change_id}}/approve",
            endpoint(COMPLIANCE_ROLES, "approve weakening a control", approve_change),
            methods=["POST"],
        ),
        Route(
            f"{p}/changes/{{change_id}}/reject",
            endpoint(COMPLIANCE_ROLES, "reject weakening a control", reject_change),
            methods=["POST"],
        ),
        Route(
            f"{p}/policies/{{policy_id}}/mode",
            endpoint(COMPLIANCE_ROLES, "set a policy mode", set_mode),
            methods=["POST"],
        ),
        Route(
            f"{p}/policies/reload",
            endpoint(COMPLIANCE_ROLES, "reload the policy files", reload_policies),
            methods=["POST"],
        ),
        Route(f"{p}/fraud-holds", endpoint(READ_ROLES, "read fraud holds", holds), methods=["GET"]),
        Route(
            f"{p}/fraud-holds/{{customer_id}}",
            endpoint(COMPLIANCE_ROLES, "set or lift a fraud hold", set_hold),
            methods=["POST", "DELETE"],
        ),
        Route(f"{p}/kill-switches", endpoint(READ_ROLES, "read kill switches", switches), methods=["GET"]),
        Route(f"{p}/kill-switch", endpoint(ADMIN_ROLES, "use the kill switch", kill_switch), methods=["POST"]),
        Route(
            f"{p}/customers/{{customer_id}}/subject-access",
            endpoint(COMPLIANCE_ROLES, "record a subject access export", subject_access),
            methods=["POST"],
        ),
        Route(
            f"{p}/customers/{{customer_id}}/erase",
            endpoint(COMPLIANCE_ROLES, "erase raw audit values", erase),
            methods=["POST"],
        ),
    ]


async def _audit_admin(
    gateway: Gateway,
    who: str,
    action: str,
    args: dict[str, Any],
    decision: str,
    reason: str,
    *,
    customer_id: str | None = None,
    person: Oversight | None = None,
    also: tuple[Statement, ...] = (),
) -> None:
    await gateway.store.append(
        kind="decision",
        decision=decision,
        agent=who,
        tool=f"governance.{action}",
        customer_id=customer_id,
        arguments=args,
        arguments_digest=digest(args),
        policy_ids=["staff-api"],
        reason=reason,
        oversight=person,
        also=also,
    )


async def _body(request: Request) -> dict[str, Any]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"the request body is over {MAX_BODY} bytes")
    if not raw:
        return {}
    return parse_json_object(raw)


def _model[M: BaseModel](model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidRequest(f"{where}: {first.get('msg')}") from None
