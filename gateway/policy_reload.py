"""Reloading the policy folder in a running gateway, and what a reload would weaken.

A reload that only adds policies or tightens them is put in force at once. One that removes a
*protective* policy (a forbid not under trial, ``CedarPolicyEngine.protective``), stops marking
one protective, or changes one in a way not proven stricter, weakens a control: it becomes a
four-eyes request (``weakening``, kind ``policy-reload``), bound to the fingerprint of the files
as they were asked for, put in force only once a second compliance person approves, and undone
when its minutes are up (the set in force before is put back).

"Proven stricter" is narrow on purpose: the same effect, scope and annotations (an approval
annotation may go: a hold becomes a refusal), and only conditions taken away, so the forbid
covers at least every call it covered before. Anything else is read as a weakening.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gateway.policy_files import APPROVAL_ANNOTATION
from shared.audit import digest

if TYPE_CHECKING:
    from mcp_types import ListToolsResult

    from gateway.gateway import Gateway
    from gateway.policy_interface import PolicyEngine

_SCOPE = ("effect", "principal", "action", "resource")


def fingerprint(engine: PolicyEngine) -> str:
    """The digest of a policy set as parsed: the same files give the same fingerprint."""
    return digest(engine.definitions())


def _stricter(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if any(old.get(k) != new.get(k) for k in _SCOPE):
        return False
    before, after = dict(old.get("annotations") or {}), dict(new.get("annotations") or {})
    if after.pop(APPROVAL_ANNOTATION, None) not in (None, before.get(APPROVAL_ANNOTATION)):
        return False  # a refusal that becomes a hold is weaker
    before.pop(APPROVAL_ANNOTATION, None)  # dropping "held for approval" turns a hold into a refusal
    if before != after:
        return False
    kept = old.get("conditions") or []
    return all(condition in kept for condition in new.get("conditions") or [])


def weakened_by(current: PolicyEngine, fresh: PolicyEngine) -> dict[str, list[str]]:
    """The protective policies a reload to ``fresh`` would remove, and those it would weaken."""
    old, new = current.definitions(), fresh.definitions()
    guarded = [pid for pid in old if current.protective(pid)]
    removed = sorted(pid for pid in guarded if pid not in new)
    weakened = sorted(
        pid
        for pid in guarded
        if pid in new and new[pid] != old[pid] and (not fresh.protective(pid) or not _stricter(old[pid], new[pid]))
    )
    return {"removed": removed, "weakened": weakened}


async def load_checked(gateway: Gateway) -> tuple[PolicyEngine, dict[str, ListToolsResult]]:
    """The policy folder as it is now, checked against the tools; raises ConfigurationError, nothing changes."""
    fresh = await asyncio.to_thread(gateway.policy.load_fresh)
    listings = gateway.catalog.listings(fresh)
    gateway.catalog.check_internal_tools(listings)
    return fresh, listings


def put_in_force(gateway: Gateway, fresh: PolicyEngine) -> None:
    gateway.policy.adopt(fresh)
    gateway.catalog.use_listings(gateway.catalog.listings(gateway.policy))
