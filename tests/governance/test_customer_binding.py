"""A customer-scoped call needs a verified auth context for that very customer."""

from __future__ import annotations

import time

import pytest

from gateway import read_audit
from shared.authcontext import AuthContextSigner, generate_private_key_pem
from shared.envelope import ContextEnvelope
from tests.governance.conftest import ANA, BEN, Env
from tests.governance.test_calls import REFUND, text_of


async def _refund_with(env: Env, envelope: str) -> str:
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta={"switchboard/envelope": envelope})
    assert result.is_error
    assert env.upstreams["payments"].calls == []
    [record] = read_audit(env.audit_db)
    assert record.decision == "deny" and record.id == result.meta["switchboard/audit_id"]
    return text_of(result)


async def test_forged_auth_context_is_denied(env: Env) -> None:
    forger = AuthContextSigner(generate_private_key_pem())
    forged = forger.issue(ANA, method="otp-sms", assurance="AAL2", conversation_id="conv-1")
    envelope = ContextEnvelope(conversation_id="conv-1", auth_context=forged).model_dump_json()
    assert "signature is not valid" in await _refund_with(env, envelope)


async def test_expired_auth_context_is_denied(env: Env) -> None:
    stale = env.signer.issue(ANA, method="otp-sms", assurance="AAL2", now=time.time() - 7200, conversation_id="conv-1")
    envelope = ContextEnvelope(conversation_id="conv-1", auth_context=stale).model_dump_json()
    assert "has expired" in await _refund_with(env, envelope)


async def test_auth_context_for_another_customer_is_denied(env: Env) -> None:
    text = await _refund_with(env, env.envelope(BEN))
    assert text.startswith("DENIED: the 'account_number' argument is not the verified customer's account_number")


async def test_missing_auth_context_is_denied(env: Env) -> None:
    text = await _refund_with(env, env.envelope(None))
    assert "no verified auth context" in text


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        (None, "carries no context envelope"),
        ("{not json", "context envelope is malformed"),
        ('{"channel": "chat"}', "context envelope is malformed (conversation_id"),
    ],
)
async def test_missing_or_malformed_envelope_is_denied(env: Env, envelope: str | None, expected: str) -> None:
    meta = {"switchboard/envelope": envelope} if envelope is not None else None
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.list_charges", {"account_number": ANA.account_number}, meta=meta)
    assert result.is_error and text_of(result).startswith("DENIED:") and expected in text_of(result)
    assert env.upstreams["payments"].calls == []
    assert read_audit(env.audit_db)[0].decision == "deny"


async def test_envelope_as_object_instead_of_string_is_denied(env: Env) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.list_charges",
            {"account_number": ANA.account_number},
            meta={"switchboard/envelope": {"conversation_id": "conv-1"}},
        )
    assert result.is_error and "must be the context envelope as a JSON string" in text_of(result)


async def test_optional_subject_may_be_null_before_verification(env: Env) -> None:
    async with env.agent("escalation") as agent:
        result = await agent.call_tool(
            "support.request_human",
            {"conversation_id": "conv-1", "reason": "wants a person", "email": None},
            meta={"switchboard/envelope": env.envelope(None)},
        )
    assert not result.is_error, text_of(result)
    assert env.upstreams["support"].calls[0]["args"]["email"] is None
    decision = read_audit(env.audit_db)[0]
    assert decision.decision == "allow" and decision.customer_id is None


async def test_optional_subject_given_without_verification_is_denied(env: Env) -> None:
    async with env.agent("escalation") as agent:
        result = await agent.call_tool(
            "support.request_human",
            {"conversation_id": "conv-1", "reason": "x", "email": ANA.email},
            meta={"switchboard/envelope": env.envelope(None)},
        )
    assert result.is_error and "no verified auth context" in text_of(result)


async def test_email_subject_matches_case_insensitively(env: Env) -> None:
    async with env.agent("escalation") as agent:
        result = await agent.call_tool(
            "support.request_human",
            {"conversation_id": "conv-1", "reason": "x", "email": "Ana@Example.com"},
            meta={"switchboard/envelope": env.envelope(ANA)},
        )
    assert not result.is_error, text_of(result)
