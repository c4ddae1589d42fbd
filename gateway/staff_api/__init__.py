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

This module is the route table and the staff check in front of it; the handlers are grouped by
resource: ``approvals`` (held calls, case decisions), ``policies`` (modes, reload), ``controls``
(fraud holds, kill switches), ``customer_data`` (erasure, subject access, retention), and
``gateway.weakening_api`` (the four-eyes changes).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.approval_flow import ApprovalDesk
from gateway.gateway import Gateway
from gateway.staff_api import approvals, controls, customer_data, policies
from gateway.staff_api.common import (
    ADMIN_ROLES,
    APPROVE_ROLES,
    COMPLIANCE_ROLES,
    READ_ROLES,
    Staff,
    audit_admin,
    read_body,
)
from gateway.weakening_api import approve_change, list_changes, reject_change
from shared.errors import Forbidden, SwitchboardError, Unauthenticated

__all__ = ["Staff", "build_staff_routes"]


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
                await audit_admin(gateway, f"agent:{agent}", action, {}, "deny", "agents may not use the staff API")
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
                body = await read_body(request) if request.method in ("POST", "PUT", "DELETE") else {}
                answer = await handler(request, who, gateway, desk, body)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            except SwitchboardError as exc:
                return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

        return run

    return _routes(endpoint)


def _routes(
    endpoint: Callable[[frozenset[str], str, Callable[..., Awaitable[Any]]], Callable[[Request], Awaitable[Response]]],
) -> list[Route]:
    p = "/governance"
    return [
        Route(
            f"{p}/retention", endpoint(COMPLIANCE_ROLES, "apply retention", customer_data.retention), methods=["POST"]
        ),
        Route(f"{p}/approvals", endpoint(READ_ROLES, "list approvals", approvals.list_approvals), methods=["GET"]),
        Route(
            f"{p}/approvals/{{approval_id}}",
            endpoint(READ_ROLES, "read approvals", approvals.get_approval),
            methods=["GET"],
        ),
        Route(
            f"{p}/approvals/{{approval_id}}/approve",
            endpoint(APPROVE_ROLES, "approve", approvals.approve),
            methods=["POST"],
        ),
        Route(
            f"{p}/approvals/{{approval_id}}/reject",
            endpoint(APPROVE_ROLES, "reject", approvals.reject),
            methods=["POST"],
        ),
        Route(
            f"{p}/oversight",
            endpoint(APPROVE_ROLES, "record a case decision", approvals.case_decision),
            methods=["POST"],
        ),
        Route(f"{p}/policies", endpoint(READ_ROLES, "read policies", policies.policies), methods=["GET"]),
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
            endpoint(COMPLIANCE_ROLES, "set a policy mode", policies.set_mode),
            methods=["POST"],
        ),
        Route(
            f"{p}/policies/reload",
            endpoint(COMPLIANCE_ROLES, "reload the policy files", policies.reload_policies),
            methods=["POST"],
        ),
        Route(f"{p}/fraud-holds", endpoint(READ_ROLES, "read fraud holds", controls.holds), methods=["GET"]),
        Route(
            f"{p}/fraud-holds/{{customer_id}}",
            endpoint(COMPLIANCE_ROLES, "set or lift a fraud hold", controls.set_hold),
            methods=["POST", "DELETE"],
        ),
        Route(f"{p}/kill-switches", endpoint(READ_ROLES, "read kill switches", controls.switches), methods=["GET"]),
        Route(f"{p}/kill-switch", endpoint(ADMIN_ROLES, "use the kill switch", controls.kill_switch), methods=["POST"]),
        Route(
            f"{p}/customers/{{customer_id}}/subject-access",
            endpoint(COMPLIANCE_ROLES, "record a subject access export", customer_data.subject_access),
            methods=["POST"],
        ),
        Route(
            f"{p}/customers/{{customer_id}}/erase",
            endpoint(COMPLIANCE_ROLES, "erase raw audit values", customer_data.erase),
            methods=["POST"],
        ),
    ]
