"""Staff handlers for the customer data the audit log holds: erasure, subject access, retention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from gateway.retention import apply as apply_retention
from gateway.staff_api.common import Staff, audit_admin, parse_model

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.gateway import Gateway


class Identifiers(BaseModel):
    identifiers: list[str] = Field(default_factory=list, max_length=10)
    """The customer's email, phone and account number: raw values recorded before they were known."""


class AccessReason(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


async def erase(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    customer_id = request.path_params["customer_id"]
    identifiers = parse_model(Identifiers, body).identifiers
    erased = await gateway.store.erase_customer(customer_id, tuple(identifiers))
    await desk.approvals.erase_customer(customer_id)
    await gateway.store.forget_erased()
    await audit_admin(
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
    reason = parse_model(AccessReason, body).reason
    await audit_admin(
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


async def retention(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    """Prune the audit data classes that expired now, as configured (also done on a schedule)."""
    configured = gateway.retention
    if configured is None or not configured.due():
        return {"raw_arguments": 0, "records": 0, "configured": False}
    pruned = await apply_retention(gateway.store, configured)
    return {"raw_arguments": pruned.raw_arguments, "records": pruned.records, "first_kept": pruned.first_kept}
