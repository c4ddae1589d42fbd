"""verify-identity: identifier, code, wrong codes, lock-out, unknown customer."""

from __future__ import annotations

from shared.envelope import ContextEnvelope
from tests.agents.conftest import StartSpecialist, verified_envelope
from tests.agents.fake_gateway import FakeGateway

ANON = ContextEnvelope(conversation_id="conv-id")


async def test_verifies_with_identifier_and_code(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    identity = await start_specialist("identity")
    first = await identity.send("hi, I need help", "verify-identity", envelope=ANON)
    assert first.result.status == "input-required"
    assert "email address, phone number or account number" in first.text

    sent = await identity.send("it's ana@example.com", "verify-identity", envelope=ANON, task=first)
    assert sent.result.status == "input-required"
    assert "I've sent a 6-digit code by text to ••• 123" in sent.text
    assert gateway.last("identity.start_verification").args == {
        "customer_id": "CUST-00001",
        "channel": "sms",
        "conversation_id": "conv-id",
    }

    done = await identity.send("123 456", "verify-identity", envelope=ANON, task=sent)
    assert done.result.status == "completed"
    assert done.result.auth_context == "signed.auth.context"
    assert done.result.customer is not None and done.result.customer.keys.msisdn == "+15550100123"
    assert "verified" in done.text
    check = gateway.last("identity.verify_code")
    assert check.args["code"] == "123456" and check.args["conversation_id"] == "conv-id"
    assert check.envelope is not None and check.envelope["conversation_id"] == "conv-id"
    assert check.bearer == "token-identity"
    assert [c.tool for c in done.result.tool_calls] == ["identity.verify_code"]


async def test_wrong_code_says_attempts_left_then_locks(start_specialist: StartSpecialist) -> None:
    identity = await start_specialist("identity")
    sent = await identity.send("my account is ACC-1234567", "verify-identity", envelope=ANON)
    wrong = await identity.send("111111", "verify-identity", envelope=ANON, task=sent)
    assert wrong.result.status == "input-required"
    assert "2 attempts left" in wrong.text
    wrong = await identity.send("222222", "verify-identity", envelope=ANON, task=wrong)
    assert "1 attempt left" in wrong.text
    locked = await identity.send("333333", "verify-identity", envelope=ANON, task=wrong)
    assert locked.result.status == "failed"
    assert "locked" in locked.text
    assert locked.result.handoff_to is not None and locked.result.handoff_to.agent == "escalation"


async def test_unknown_customer_is_asked_again_three_times(start_specialist: StartSpecialist) -> None:
    identity = await start_specialist("identity")
    answer = None
    for attempt in range(1, 3):
        answer = await identity.send("bob@nowhere.org", "verify-identity", envelope=ANON, task=answer)
        assert answer.result.status == "input-required", attempt
        assert "couldn't find an account" in answer.text
    last = await identity.send("bob@nowhere.org", "verify-identity", envelope=ANON, task=answer)
    assert last.result.status == "failed"
    assert last.result.handoff_to is not None and last.result.handoff_to.skill == "human-handoff"


async def test_code_prompt_repeats_when_no_code_given(start_specialist: StartSpecialist) -> None:
    identity = await start_specialist("identity")
    sent = await identity.send("+1 555 010 0123", "verify-identity", envelope=ANON)
    again = await identity.send("what code?", "verify-identity", envelope=ANON, task=sent)
    assert again.result.status == "input-required"
    assert "6-digit code" in again.text


async def test_already_verified_customer_is_not_asked_again(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    identity = await start_specialist("identity")
    answer = await identity.send("verify me", "verify-identity", envelope=verified_envelope())
    assert answer.result.status == "completed"
    assert answer.result.auth_context == "signed.auth.context"
    assert gateway.calls == []
