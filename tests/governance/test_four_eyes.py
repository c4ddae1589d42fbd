"""Four eyes on weakening a control: one person asks, a second compliance person approves, and the
weakening expires by itself; "would-deny" is a decision value of its own."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from gateway import read_audit, verify_audit
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from tests.governance.conftest import ANA, STAFF_TOKENS, WAIT, Env, start_env
from tests.governance.test_adversarial import BIG, _meta
from tests.governance.test_calls import text_of

POLICY = "/policies/approval.refund-above-40/mode"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def timed_env(tmp_path: Path, identity_key: bytes, clock: Clock) -> AsyncIterator[Env]:
    async with start_env(tmp_path, identity_key, clock=clock) as running:
        yield running


async def _refund(env: Env, key: str) -> str:
    async with env.agent("payment") as agent:
        return text_of(await agent.call_tool("payments.issue_refund", {**BIG, "idempotency_key": key}, meta=_meta(env)))


async def _until(env: Env, status: str, change_id: str) -> dict:
    """The change once the expiry loop has moved it (bounded: the loop runs every second)."""
    async with asyncio.timeout(WAIT):
        while True:
            changes = (await env.staff("carol", "GET", "/changes")).json()["changes"]
            found = next(c for c in changes if c["id"] == change_id)
            if found["status"] == status:
                return found
            await asyncio.sleep(0.1)


async def test_one_person_cannot_switch_a_protective_policy_to_log_only(timed_env: Env) -> None:
    env = timed_env
    missing = await env.staff("carol", "POST", POLICY, {"mode": "log-only"})
    assert missing.status_code == 400 and "minutes" in missing.json()["error"]["message"]
    asked = await env.staff("carol", "POST", POLICY, {"mode": "log-only", "minutes": 30, "reason": "trial week"})
    assert asked.status_code == 202 and asked.json()["status"] == "pending", asked.text
    change_id = asked.json()["change"]["id"]
    assert (await env.staff("carol", "GET", "/policies")).json()["policies"]["approval.refund-above-40"] == "enforce"
    assert (await _refund(env, "k-1")).startswith("APPROVAL_REQUIRED")  # nothing changed yet

    own = await env.staff("carol", "POST", f"/changes/{change_id}/approve", {})
    assert own.status_code == 403 and "second compliance person" in own.json()["error"]["hint"]
    not_compliance = await env.staff("alice", "POST", f"/changes/{change_id}/approve", {})
    assert not_compliance.status_code == 403
    refusal = read_audit(env.audit_db)[-1]
    assert refusal.decision == "deny" and "four eyes" in (
        next(r for r in read_audit(env.audit_db) if r.decision == "deny" and "four eyes" in r.reason).reason
    )
    approved = await env.staff("root", "POST", f"/changes/{change_id}/approve", {})
    assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text
    active = (await env.staff("alice", "GET", "/changes?status=active")).json()["changes"]
    assert [c["id"] for c in active] == [change_id]  # every staff role sees it while it lasts

    assert not (await _refund(env, "k-2")).startswith("APPROVAL_REQUIRED")
    shadowed = [r for r in read_audit(env.audit_db) if r.tool == "payments.issue_refund" and r.kind == "decision"][-1]
    assert shadowed.decision == "would-deny" and "would have answered approval" in shadowed.reason

    people = [r.oversight for r in read_audit(env.audit_db) if r.oversight and r.oversight.target == change_id]
    assert [(p.action, p.person) for p in people] == [
        ("request-policy-log-only", "carol"),
        ("approve-weakening", "root"),
    ]
    headers = {"Authorization": f"Bearer {STAFF_TOKENS['carol']['token']}"}
    async with httpx2.AsyncClient(base_url=env.url, timeout=WAIT) as http:
        page = (await http.get("/governance/audit/traces?decision=would-deny", headers=headers)).json()
        exported = await http.get("/governance/audit/export?format=json&decision=would-deny", headers=headers)
    assert [t["id"] for t in page["traces"]] == [shadowed.id]
    assert [t["id"] for t in json.loads(exported.text)["traces"]] == [shadowed.id]
    assert verify_audit(env.audit_db).intact


async def test_a_weakening_expires_and_the_control_comes_back(timed_env: Env, clock: Clock) -> None:
    env = timed_env
    changed = await env.four_eyes("carol", "root", "POST", POLICY, {"mode": "log-only"}, minutes=5)
    change_id = changed.json()["id"]
    clock.now += 5 * 60 + 1
    expired = await _until(env, "expired", change_id)
    assert expired["status"] == "expired"
    assert (await env.staff("carol", "GET", "/policies")).json()["policies"]["approval.refund-above-40"] == "enforce"
    assert (await _refund(env, "k-3")).startswith("APPROVAL_REQUIRED")
    restored = next(r for r in reversed(read_audit(env.audit_db)) if r.tool == "governance.policy-log-only")
    assert "the control is restored" in restored.reason and restored.oversight is None


async def test_lifting_a_fraud_hold_takes_two_and_the_hold_returns(timed_env: Env, clock: Clock) -> None:
    env = timed_env
    assert (await env.staff("carol", "POST", f"/fraud-holds/{ANA.customer_id}", {"reason": "sim swap"})).is_success
    asked = await env.staff("carol", "DELETE", f"/fraud-holds/{ANA.customer_id}", {"minutes": 10, "reason": "cleared"})
    assert asked.status_code == 202
    assert ANA.customer_id in (await env.staff("carol", "GET", "/fraud-holds")).json()["fraud_holds"]
    lifted = await env.staff("root", "POST", f"/changes/{asked.json()['change']['id']}/approve", {})
    assert lifted.json()["status"] == "active"
    assert ANA.customer_id not in (await env.staff("carol", "GET", "/fraud-holds")).json()["fraud_holds"]
    clock.now += 10 * 60 + 1
    await _until(env, "expired", asked.json()["change"]["id"])
    holds = (await env.staff("carol", "GET", "/fraud-holds")).json()["fraud_holds"]
    assert holds[ANA.customer_id]["reason"] == "sim swap"


async def test_strengthening_ends_a_weakening_and_an_unapproved_request_lapses(timed_env: Env, clock: Clock) -> None:
    env = timed_env
    changed = await env.four_eyes("carol", "root", "POST", POLICY, {"mode": "log-only"})
    assert (await env.staff("carol", "POST", POLICY, {"mode": "enforce"})).status_code == 200
    ended = (await env.staff("carol", "GET", "/changes")).json()["changes"]
    assert next(c for c in ended if c["id"] == changed.json()["id"])["status"] == "ended"

    asked = await env.staff("carol", "POST", POLICY, {"mode": "log-only", "minutes": 1, "reason": "try"})
    clock.now += 61
    await _until(env, "lapsed", asked.json()["change"]["id"])
    late = await env.staff("root", "POST", f"/changes/{asked.json()['change']['id']}/approve", {})
    assert late.status_code == 409


def test_only_a_policy_under_trial_runs_log_only_on_one_person_s_word(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, folder, ignore=shutil.ignore_patterns("__*"))
    (folder / "trial.cedar").write_text(
        '@id("trial.no-refunds-at-night")\n@trial("true")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"payments.issue_refund")\n'
        "when { context.hour_utc < 6 };\n"
    )
    engine = CedarPolicyEngine.load(folder)
    assert not engine.protective("trial.no-refunds-at-night")
    assert engine.protective("guard.consent-required") and engine.protective("approval.refund-above-40")
    assert not engine.protective("grant.payment.payments-system")  # a permit in log-only only takes access away
