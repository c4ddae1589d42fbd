"""The adversarial suite: each attack reaches no MCP server and leaves a deny record.

(Threshold properties are in ``test_thresholds.py``; audit tampering in ``test_audit_tamper.py``;
injection through conversations in ``tests/e2e/test_governance_injection.py``.)
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx2
import pytest

from gateway import read_audit
from tests.governance.conftest import AGENT_TOKENS, ANA, BEN, Env, start_env
from tests.governance.test_calls import REFUND, text_of

BIG = {**REFUND, "amount": 75.0, "idempotency_key": "k-big"}


def _meta(env: Env, **extra: object) -> dict:
    return {"switchboard/envelope": env.envelope(), **extra}


def _last(env: Env):
    return read_audit(env.audit_db)[-1]


def _nothing_upstream(env: Env) -> None:
    assert env.upstreams["payments"].calls == []
    assert env.upstreams["crm"].calls == []


async def _hold(env: Env) -> str:
    async with env.agent("payment") as agent:
        held = await agent.call_tool("payments.issue_refund", BIG, meta=_meta(env))
    assert text_of(held).startswith("APPROVAL_REQUIRED:"), text_of(held)
    return held.meta["switchboard/refusal"]["approval_id"]


async def test_tool_outside_the_grant(env: Env) -> None:
    async with env.agent("billing") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
    assert text_of(result).startswith("DENIED")
    assert _last(env).decision == "deny" and _last(env).agent == "billing"
    _nothing_upstream(env)


async def test_replayed_approval_runs_once(env: Env) -> None:
    approval_id = await _hold(env)
    first = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
    assert first.status_code == 200 and first.json()["status"] == "executed", first.text
    replay = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
    assert replay.status_code == 409
    assert len(env.upstreams["payments"].calls) == 1
    refusal = _last(env)
    assert refusal.decision == "deny" and "alice's approve attempt refused" in refusal.reason
    assert refusal.approver is None  # an attempt, not a decision: approver says who decided


async def test_the_loser_of_an_approval_race_is_told_who_won_and_is_recorded_as_an_attempt(env: Env) -> None:
    approval_id = await _hold(env)
    won = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
    assert won.status_code == 200 and won.json()["status"] == "executed", won.text
    lost = await env.staff("root", "POST", f"/approvals/{approval_id}/reject", {"note": "too late"})
    assert lost.status_code == 409, lost.text
    error = lost.json()["error"]
    assert "already decided by alice" in error["message"] and "tell the customer the outcome" in error["hint"]
    refusal = _last(env)
    assert refusal.decision == "deny" and refusal.approver is None
    assert refusal.reason.startswith("root's reject attempt refused") and "decided by alice" in refusal.reason
    assert len(env.upstreams["payments"].calls) == 1


@pytest.mark.parametrize("change", [{}, {"amount": 74.0}], ids=["reused", "altered"])
async def test_reused_or_altered_approval_presented_with_a_call(env: Env, change: dict) -> None:
    approval_id = await _hold(env)
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", {**BIG, **change}, meta=_meta(env, **{"switchboard/approval_id": approval_id})
        )
    assert text_of(result).startswith("DENIED")
    assert _last(env).decision == "deny" and _last(env).policy_ids == ["approval-binding"]
    _nothing_upstream(env)


async def test_approval_altered_at_rest_fails_closed(env: Env) -> None:
    approval_id = await _hold(env)
    with closing(sqlite3.connect(env.audit_db, isolation_level=None)) as db:
        tampered = json.dumps({**BIG, "amount": 450.0}, sort_keys=True)
        db.execute("UPDATE approvals SET arguments = ? WHERE id = ?", (tampered, approval_id))
    approved = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
    assert approved.json()["status"] == "failed"
    assert _last(env).decision == "deny" and _last(env).policy_ids == ["approval-binding"]
    assert "no longer match the approved digest" in _last(env).reason
    _nothing_upstream(env)


async def test_expired_approval_fails_closed(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, approval_ttl_seconds=0) as env:
        approval_id = await _hold(env)
        late = await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
        assert late.status_code == 410
        assert (await env.staff("alice", "GET", f"/approvals/{approval_id}")).json()["status"] == "expired"
        expiry, refusal = read_audit(env.audit_db)[-2:]
        assert expiry.decision == "rejected" and "expired" in expiry.reason
        assert refusal.decision == "deny" and refusal.approver is None and "had expired" in refusal.reason
        assert refusal.reason.startswith("alice's approve refused")
        _nothing_upstream(env)


async def test_the_requesting_agent_cannot_approve(env: Env) -> None:
    approval_id = await _hold(env)
    async with httpx2.AsyncClient(base_url=env.url) as http:
        response = await http.post(
            f"/governance/approvals/{approval_id}/approve",
            headers={"Authorization": f"Bearer {AGENT_TOKENS['payment']}"},
        )
    assert response.status_code == 403
    assert _last(env).agent == "agent:payment" and _last(env).decision == "deny"
    _nothing_upstream(env)


async def test_spoofed_agent_credential(env: Env) -> None:
    async with httpx2.AsyncClient() as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "payments.issue_refund"}}
        response = await http.post(
            env.url + "/mcp",
            json=body,
            headers={"Authorization": "Bearer token-paymentX", "Accept": "application/json"},
        )
    assert response.status_code == 401
    assert _last(env).agent == "unknown" and _last(env).decision == "deny"
    _nothing_upstream(env)


@pytest.mark.parametrize("kind", ["forged", "expired", "other-customer"])
async def test_bad_auth_context(env: Env, kind: str) -> None:
    from shared.authcontext import AuthContextSigner, generate_private_key_pem
    from shared.envelope import ContextEnvelope, CustomerRef

    if kind == "forged":
        token = AuthContextSigner(generate_private_key_pem()).issue(
            ANA, method="otp-sms", assurance="AAL2", conversation_id="c"
        )
    elif kind == "expired":
        token = env.signer.issue(ANA, method="otp-sms", assurance="AAL2", now=1_000_000, conversation_id="c")
    else:
        token = env.signer.issue(BEN, method="otp-sms", assurance="AAL2", conversation_id="c")
    envelope = ContextEnvelope(conversation_id="c", customer=CustomerRef(keys=ANA), auth_context=token)
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", REFUND, meta={"switchboard/envelope": envelope.model_dump_json()}
        )
    assert text_of(result).startswith("DENIED")
    assert _last(env).decision == "deny"
    _nothing_upstream(env)


async def test_another_customers_id_in_the_arguments(env: Env) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", {**REFUND, "account_number": BEN.account_number}, meta=_meta(env)
        )
    assert text_of(result).startswith("DENIED") and _last(env).decision == "deny"
    _nothing_upstream(env)


async def test_consent_revoked_mid_conversation_and_registry_down(env: Env) -> None:
    async with env.agent("payment") as agent:
        ok = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert not ok.is_error
        env.upstreams["consent"].consents[ANA.customer_id] = {"account-servicing"}
        revoked = await agent.call_tool("payments.issue_refund", {**REFUND, "idempotency_key": "k-2"}, meta=_meta(env))
        assert "guard.consent-required" in text_of(revoked)
        env.upstreams["consent"].down = True
        unknown = await agent.call_tool("payments.issue_refund", {**REFUND, "idempotency_key": "k-3"}, meta=_meta(env))
        assert text_of(unknown).startswith("DENIED") and "unknown" in text_of(unknown)
    assert len(env.upstreams["payments"].calls) == 1
    assert [r.decision for r in read_audit(env.audit_db)][-2:] == ["deny", "deny"]


async def test_marketing_with_an_open_case(env: Env) -> None:
    env.upstreams["support"].open_tickets[ANA.email] = 1
    async with env.agent("billing") as agent:
        result = await agent.call_tool("crm.send_offer", {"email": ANA.email, "offer_id": "X"}, meta=_meta(env))
    assert "guard.no-marketing-during-open-case" in text_of(result)
    _nothing_upstream(env)


async def test_oversized_and_malformed_payloads(env: Env) -> None:
    headers = {"Authorization": f"Bearer {AGENT_TOKENS['payment']}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(base_url=env.url, headers=headers) as http:
        big = await http.post("/mcp", content=b'{"x": "' + b"a" * 300_000 + b'"}')
        assert big.status_code == 413
        assert "too" in _last(env).reason or "larger" in _last(env).reason
        garbage = await http.post("/mcp", content=b"{not json", headers={"Content-Type": "application/json"})
        assert garbage.status_code >= 400
        assert "not valid JSON" in _last(env).reason
        bad_args = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "payments.issue_refund", "arguments": ["not", "an", "object"]},
        }
        await http.post("/mcp", json=bad_args)
        assert _last(env).tool == "payments.issue_refund" and "JSON object" in _last(env).reason
    assert all(r.decision == "deny" and r.agent == "payment" for r in read_audit(env.audit_db))
    _nothing_upstream(env)


async def test_policy_engine_failure_fails_closed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.policy import CedarPolicyEngine

    def broken(self, request):
        raise RuntimeError("engine down")

    monkeypatch.setattr(CedarPolicyEngine, "decide", broken)
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
    assert text_of(result).startswith("DENIED") and "policy engine failed" in _last(env).reason
    _nothing_upstream(env)


async def test_audit_store_failure_fails_closed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.audit_store import AuditStore

    real = AuditStore.append_now
    failures = {"left": 1}

    def failing_once(self, **fields):
        # The allow record cannot be written (disk full for a moment): nothing may go upstream.
        if fields.get("decision") == "allow" and failures["left"]:
            failures["left"] -= 1
            raise OSError("disk full")
        return real(self, **fields)

    monkeypatch.setattr(AuditStore, "append_now", failing_once)
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert result.is_error and text_of(result).startswith("unavailable: the governance gateway could not decide")
        assert _last(env).decision == "deny" and "failed deciding (OSError)" in _last(env).reason
        _nothing_upstream(env)

        def always_failing(self, **fields):
            raise OSError("disk gone")

        monkeypatch.setattr(AuditStore, "append_now", always_failing)
        before = len(read_audit(env.audit_db, limit=10_000))
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert result.is_error and text_of(result).startswith("unavailable")
    assert len(read_audit(env.audit_db, limit=10_000)) == before  # nothing could be recorded, so nothing was sent
    _nothing_upstream(env)


async def test_duplicate_deliveries_of_a_held_call(env: Env) -> None:
    approval_id = await _hold(env)
    async with env.agent("payment") as agent:
        again = await agent.call_tool("payments.issue_refund", BIG, meta=_meta(env))
    assert again.meta["switchboard/refusal"]["approval_id"] == approval_id  # the same request, not a new one
    await env.staff("alice", "POST", f"/approvals/{approval_id}/approve", {})
    async with env.agent("payment") as agent:
        late = await agent.call_tool("payments.issue_refund", BIG, meta=_meta(env))
    assert not late.is_error and late.structured_content["refund_id"] == "RF-1"
    assert len(env.upstreams["payments"].calls) == 1  # exactly once
    assert "already approved and executed" in _last(env).reason


async def test_a_rejected_call_delivered_again_is_refused_not_asked_again(env: Env) -> None:
    approval_id = await _hold(env)
    await env.staff("alice", "POST", f"/approvals/{approval_id}/reject", {"note": "no"})
    async with env.agent("payment") as agent:
        again = await agent.call_tool("payments.issue_refund", BIG, meta=_meta(env))
    assert text_of(again).startswith("DENIED") and approval_id in text_of(again)
    assert _last(env).decision == "deny" and "not asked again" in _last(env).reason
    pending = (await env.staff("alice", "GET", "/approvals?status=pending")).json()["approvals"]
    assert pending == []  # no second request for a person to decide
    _nothing_upstream(env)


async def test_tool_call_loop_and_approval_flood_are_rate_limited(tmp_path: Path, identity_key: bytes) -> None:
    async with start_env(tmp_path, identity_key, calls_per_minute=5, max_approvals_per_conversation=2) as env:
        async with env.agent("payment") as agent:
            for i in range(5):
                result = await agent.call_tool(
                    "payments.list_charges", {"account_number": ANA.account_number}, meta=_meta(env)
                )
                assert not result.is_error, (i, text_of(result))
            looped = await agent.call_tool(
                "payments.list_charges", {"account_number": ANA.account_number}, meta=_meta(env)
            )
            assert "rate limited" in text_of(looped) and _last(env).policy_ids == ["rate-limit"]
        assert len(env.upstreams["payments"].calls) == 5
    async with start_env(tmp_path / "flood", identity_key, max_approvals_per_conversation=2) as env:
        async with env.agent("payment") as agent:
            for amount in (50.0, 60.0, 70.0):
                result = await agent.call_tool("payments.issue_refund", {**BIG, "amount": amount}, meta=_meta(env))
        assert "too many approval requests" in text_of(result)
        listed = await env.staff("alice", "GET", "/approvals?status=pending")
        assert len(listed.json()["approvals"]) == 2
        _nothing_upstream(env)


async def test_kill_switch_and_fraud_hold_through_the_staff_api(env: Env) -> None:
    approval_id = await _hold(env)
    refused = await env.staff("alice", "POST", "/kill-switch", {"scope": "all", "on": True})
    assert refused.status_code == 403
    on = await env.staff(
        "root", "POST", "/kill-switch", {"scope": "tool", "target": "payments.issue_refund", "on": True}
    )
    assert on.json()["approvals_rejected"] == 1
    assert (await env.staff("alice", "GET", f"/approvals/{approval_id}")).json()["status"] == "rejected"
    async with env.agent("payment") as agent:
        killed = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert "kill switch" in text_of(killed)
        reads = await agent.call_tool("payments.list_charges", {"account_number": ANA.account_number}, meta=_meta(env))
        assert not reads.is_error  # only the switched tool is stopped
        off = await env.four_eyes(
            "root", "carol", "POST", "/kill-switch", {"scope": "tool", "target": "payments.issue_refund", "on": False}
        )
        assert off.status_code == 200 and off.json()["status"] == "active", off.text
        hold = await env.staff("carol", "POST", f"/fraud-holds/{ANA.customer_id}", {"reason": "sim swap"})
        assert hold.status_code == 200
        paused = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert "guard.fraud-hold-pauses-payments" in text_of(paused)
    assert [c["tool"] for c in env.upstreams["payments"].calls] == ["list_charges"]


async def test_log_only_mode_shadows_a_policy_and_is_audited(env: Env) -> None:
    denied = await env.staff("alice", "POST", "/policies/approval.refund-above-40/mode", {"mode": "log-only"})
    assert denied.status_code == 403
    changed = await env.four_eyes(
        "carol", "root", "POST", "/policies/approval.refund-above-40/mode", {"mode": "log-only"}
    )
    assert changed.status_code == 200 and changed.json()["status"] == "active", changed.text
    assert _last(env).agent == "staff:root" and _last(env).tool == "governance.policy-log-only"
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", BIG, meta=_meta(env))
    assert not result.is_error  # the shadowed policy no longer holds the call ...
    decision = [r for r in read_audit(env.audit_db) if r.kind == "decision"][-1]
    assert "would have answered approval" in decision.reason  # ... but says what it would have done
    assert decision.decision == "would-deny"


async def test_erasing_a_customer_through_the_staff_api_keeps_the_chain(env: Env) -> None:
    from gateway import verify_audit

    async with env.agent("payment") as agent:
        done = await agent.call_tool("payments.issue_refund", REFUND, meta=_meta(env))
        assert not done.is_error
    approval_id = await _hold(env)
    await env.staff("alice", "POST", f"/approvals/{approval_id}/reject", {"note": "no"})

    refused = await env.staff("alice", "POST", f"/customers/{ANA.customer_id}/erase")
    assert refused.status_code == 403
    erased = await env.staff("carol", "POST", f"/customers/{ANA.customer_id}/erase")
    assert erased.status_code == 200 and erased.json()["records_erased"] >= 2, erased.text
    assert _last(env).tool == "governance.erase-customer" and _last(env).agent == "staff:carol"
    with closing(sqlite3.connect(env.audit_db)) as db:
        assert db.execute("SELECT COUNT(*) FROM audit_raw WHERE customer_id = ?", (ANA.customer_id,)).fetchone()[0] == 0
        (arguments,) = db.execute("SELECT arguments FROM approvals WHERE id = ?", (approval_id,)).fetchone()
    assert arguments == "{}"
    # The redacted arguments and their digests stay in the chain, which still verifies.
    assert any(r.arguments.get("charge_id") == REFUND["charge_id"] for r in read_audit(env.audit_db))
    assert verify_audit(env.audit_db).intact
