"""The customer's profile for the human's case, read at hand-off time through the gateway.

Only a verified customer's records are read (the gateway refuses the rest anyway), and a
system that does not answer leaves a note in ``missing`` instead of stopping the hand-off:
a customer who asked for a person must reach one even when the CRM is down.
"""

from __future__ import annotations

import time
from typing import Any

from agents.runtime import Turn
from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from shared.escalation import CustomerProfile, Interaction, one_line_address

INTERACTIONS = 5
_PROFILE_FIELDS = ("segment", "preferred_channel", "city", "customer_since", "plan_name")


async def gather_profile(turn: Turn) -> CustomerProfile | None:
    """The unified profile: contact details from identity, the CRM profile, the plan from billing
    and earlier contacts, each from its system of record where it has one."""
    keys = turn.keys
    if keys is None or not turn.envelope.auth_context:
        return None
    profile = CustomerProfile(
        customer_id=keys.customer_id,
        name=turn.envelope.customer.display_name if turn.envelope.customer else "",
        email=keys.email,
        msisdn=keys.msisdn,
        account_number=keys.account_number,
        sources=["identity: verified auth context"],
        gathered_at=time.time(),
    )
    await _contact_from_identity(turn, profile)
    if not profile.email:
        profile.missing.append("crm: no email on record to look the customer up by")
        return profile
    found = await _read(turn, profile, "crm.get_profile", {"email": profile.email})
    if found is not None:
        profile.name = str(found.get("name") or profile.name)
        for field in _PROFILE_FIELDS:
            if isinstance(found.get(field), str):
                setattr(profile, field, found[field])
    await _plan_from_billing(turn, profile)
    history = await _read(turn, profile, "crm.list_interactions", {"email": profile.email, "limit": INTERACTIONS})
    if history is not None:
        for item in history.get("interactions", [])[:INTERACTIONS]:
            try:
                profile.interactions.append(Interaction.model_validate(item))
            except ValueError:
                continue  # one odd record must not hide the others
    return profile


async def _contact_from_identity(turn: Turn, profile: CustomerProfile) -> None:
    """Email, number and postal address as identity holds them now: the verified keys are as of the
    verification, and a human must not call a number, or post to an address, the customer has just changed."""
    found = await _read(turn, profile, "identity.get_contact_details", {"customer_id": profile.customer_id})
    if found is None:
        return  # the keys from the verification stay, and ``missing`` says why
    for field in ("email", "msisdn"):
        if isinstance(found.get(field), str):
            setattr(profile, field, found[field])
    address = one_line_address(found.get("address"))
    if address is not None:
        profile.address, profile.city = address, found["address"]["town"]


async def _plan_from_billing(turn: Turn, profile: CustomerProfile) -> None:
    """The plan as billing has it now. The CRM's copy is its live customer view (kept current from
    billing's plan-changed events) when that has seen a change, else its own record; a copy that
    disagrees with billing is shown as out of date, never as the plan."""
    crm_plan = await _live_crm_plan(turn, profile) or profile.plan_name
    profile.plan_name, profile.plan_source = None, None
    if not profile.msisdn:
        profile.missing.append("billing.get_account: no phone number on record to read the plan by")
        return
    account = await _read(turn, profile, "billing.get_account", {"msisdn": profile.msisdn})
    if account is None or not isinstance(account.get("plan_name"), str):
        return
    profile.plan_name, profile.plan_source = account["plan_name"], "billing.get_account"
    if crm_plan and crm_plan != profile.plan_name:
        profile.crm_plan_name = crm_plan


async def _live_crm_plan(turn: Turn, profile: CustomerProfile) -> str | None:
    view = await _read(turn, profile, "crm.get_customer_view", {"customer_id": profile.customer_id})
    plan = view.get("plan") if view is not None else None
    name = plan.get("plan_name") if isinstance(plan, dict) else None
    return name if isinstance(name, str) and name else None


async def _read(turn: Turn, profile: CustomerProfile, tool: str, args: dict[str, Any]) -> dict[str, Any] | None:
    try:
        data = await turn.call(tool, args)
    except (ToolDenied, SystemUnavailable, ToolFailed) as exc:
        profile.missing.append(f"{tool}: {exc}"[:200])
        return None
    profile.sources.append(tool)
    return data
