"""What every staff handler shares: who is calling, how a body is read, how a change is recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from gateway.audit_store import Statement
from gateway.oversight import oversight, seen_digest
from shared.audit import Oversight, digest
from shared.errors import InvalidRequest, PayloadTooLarge, first_problem
from shared.jsonbody import parse_json_object

if TYPE_CHECKING:
    from gateway.gateway import Gateway

MAX_BODY = 16 * 1024
READ_ROLES = frozenset({"agent", "supervisor", "approver", "compliance", "admin"})
APPROVE_ROLES = frozenset({"agent", "supervisor", "approver", "admin"})
COMPLIANCE_ROLES = frozenset({"compliance", "admin"})
ADMIN_ROLES = frozenset({"admin"})


class Staff:
    def __init__(self, name: str, role: str, shared: bool = False) -> None:
        self.name, self.role, self.shared = name, role, shared

    def decides(self, action: str, target: str, seen: Any, note: str | None = None) -> Oversight:
        """This person's decision, for the chain."""
        return oversight(action, self.name, self.role, target, seen_digest(seen), note, shared_account=self.shared)


async def audit_admin(
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


async def read_body(request: Request) -> dict[str, Any]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"the request body is over {MAX_BODY} bytes")
    if not raw:
        return {}
    return parse_json_object(raw)


def parse_model[M: BaseModel](model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequest(first_problem(exc)) from None
