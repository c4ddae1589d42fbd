"""Staff handlers for the policy set: read the modes, switch one policy's mode, reload the files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from gateway.policy_reload import fingerprint, load_checked, put_in_force, weakened_by
from gateway.staff_api.common import Staff, audit_admin, parse_model
from gateway.state import GovernanceState
from gateway.weakening import POLICY_LOG_ONLY, POLICY_RELOAD
from gateway.weakening_api import desk_of, request_weakening
from shared.errors import ConfigurationError, InvalidRequest, NotFound

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.gateway import Gateway


class PolicyMode(BaseModel):
    mode: str = Field(pattern="^(enforce|log-only)$")
    minutes: int | None = None
    reason: str | None = None


async def policies(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    return {"policies": gateway.policy.modes()}


async def set_mode(request: Request, who: Staff, gateway: Gateway, desk: ApprovalDesk, body: dict[str, Any]) -> Any:
    policy_id = request.path_params["policy_id"]
    mode = parse_model(PolicyMode, body).mode
    if policy_id not in gateway.policy.modes():
        raise NotFound(f"no policy {policy_id!r}", hint="GET /governance/policies lists them")
    if mode == "log-only" and gateway.policy.protective(policy_id):
        detail = {"policy_id": policy_id, "mode": gateway.policy.modes()[policy_id]}
        return await request_weakening(gateway, who, POLICY_LOG_ONLY, policy_id, detail, body, "log-only")
    await audit_admin(
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
        await audit_admin(gateway, f"staff:{who.name}", "policy-reload", {}, "deny", why)
        raise InvalidRequest(why, hint=exc.hint) from None
    weakens = weakened_by(engine, fresh)
    if weakens["removed"] or weakens["weakened"]:
        detail = {**weakens, "fingerprint": fingerprint(fresh), "in_force": fingerprint(engine)}
        what = "a reload that removes or weakens a protective policy"
        return await request_weakening(gateway, who, POLICY_RELOAD, "policy-files", detail, body, what)
    put_in_force(gateway, fresh)
    modes = engine.modes()
    await audit_admin(
        gateway,
        f"staff:{who.name}",
        "policy-reload",
        {"policies": sorted(modes)},
        "allow",
        f"{len(modes)} policies loaded from the policy folder by {who.name}",
    )
    return {"reloaded": True, "policies": modes}
