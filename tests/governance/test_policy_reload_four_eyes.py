"""A policy reload that removes or weakens a protective policy goes under four eyes and expires;
one that only adds or tightens applies at once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from gateway import read_audit, verify_audit
from gateway.policy import DEFAULT_POLICY_DIR
from tests.governance.conftest import Env, start_env
from tests.governance.test_four_eyes import Clock, _refund, _until
from tests.governance.test_policy_reload import NO_BIG_REFUNDS

GUARD = "approval.refund-above-40"
TERMS = {"minutes": 30, "reason": "retire the 40 pound threshold for the sale"}


def _policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, folder)
    return folder


def _edit_guard(folder: Path, new: str) -> None:
    """Replace the guard's policy (its @id to the next blank line) in approvals.cedar with ``new``."""
    path = folder / "approvals.cedar"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(rf'@id\("{re.escape(GUARD)}"\).*?;\n', new, text, count=1, flags=re.S), encoding="utf-8")


async def _in_force(env: Env) -> dict[str, str]:
    return (await env.staff("carol", "GET", "/policies")).json()["policies"]


async def test_removing_a_protective_policy_needs_a_second_person_and_expires(
    tmp_path: Path, identity_key: bytes
) -> None:
    clock, folder = Clock(), _policies(tmp_path)
    async with start_env(tmp_path, identity_key, policy_dir=folder, clock=clock) as env:
        _edit_guard(folder, "")
        missing = await env.staff("carol", "POST", "/policies/reload")
        assert missing.status_code == 400 and "minutes" in missing.json()["error"]["message"]
        asked = await env.staff("carol", "POST", "/policies/reload", TERMS)
        assert asked.status_code == 202, asked.text
        change = asked.json()["change"]
        assert change["kind"] == "policy-reload" and change["detail"]["removed"] == [GUARD]
        assert GUARD in await _in_force(env)  # nothing changed yet
        assert (await _refund(env, "r-1")).startswith("APPROVAL_REQUIRED")

        own = await env.staff("carol", "POST", f"/changes/{change['id']}/approve", {})
        assert own.status_code == 403
        approved = await env.staff("root", "POST", f"/changes/{change['id']}/approve", {})
        assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text
        assert GUARD not in await _in_force(env)
        assert not (await _refund(env, "r-2")).startswith("APPROVAL_REQUIRED")

        clock.now += 31 * 60  # its minutes are up: the set in force before is put back
        await _until(env, "expired", change["id"])
        assert GUARD in await _in_force(env)
        assert (await _refund(env, "r-3")).startswith("APPROVAL_REQUIRED")

    people = [r.oversight for r in read_audit(env.audit_db) if r.oversight and r.oversight.target == change["id"]]
    assert [(p.action, p.person) for p in people] == [("request-policy-reload", "carol"), ("approve-weakening", "root")]
    assert verify_audit(env.audit_db).intact


async def test_adding_or_tightening_applies_at_once_and_changed_files_cannot_be_approved(
    tmp_path: Path, identity_key: bytes
) -> None:
    folder = _policies(tmp_path)
    async with start_env(tmp_path, identity_key, policy_dir=folder) as env:
        # Tighter: the same forbid without its amount condition holds every refund.
        _edit_guard(
            folder,
            f'@id("{GUARD}")\n@approval("required")\nforbid (principal, action == Action::"call",'
            ' resource == Tool::"payments.issue_refund")\nunless { context.approved };\n',
        )
        (folder / "limits.cedar").write_text(NO_BIG_REFUNDS, encoding="utf-8")  # and a new forbid
        applied = await env.staff("carol", "POST", "/policies/reload")
        assert applied.status_code == 200 and "limit.refund-over-100" in applied.json()["policies"], applied.text

        # Weaker (a condition added to the forbid): a request, bound to the files as asked for.
        _edit_guard(
            folder,
            f'@id("{GUARD}")\n@approval("required")\nforbid (principal, action == Action::"call",'
            ' resource == Tool::"payments.issue_refund")\nwhen { context has amount &&'
            ' context.amount.greaterThan(decimal("500.00")) }\nunless { context.approved };\n',
        )
        asked = await env.staff("carol", "POST", "/policies/reload", TERMS)
        assert asked.status_code == 202 and asked.json()["change"]["detail"]["weakened"] == [GUARD], asked.text
        (folder / "limits.cedar").unlink()  # the files change again before anyone approves
        stale = await env.staff("root", "POST", f"/changes/{asked.json()['change']['id']}/approve", {})
        assert stale.status_code == 409 and "changed since" in stale.json()["error"]["message"]
        assert "limit.refund-over-100" in await _in_force(env)
    reloads = [r for r in read_audit(env.audit_db) if r.tool in ("governance.policy-reload",)]
    assert [r.decision for r in reloads] == ["allow", "approval-required"]
