"""verify-identity: identifier, code, wrong codes, lock-out, unknown customer."""

from __future__ import annotations

from shared.envelope import ContextEnvelope
from shared.service_auth.verifier import unverified_subject
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
    assert "If those details match an account, I've sent a 6-digit code to the email address or mobile number" in (
        sent.text
    )
    assert gateway.last("identity.start_verification").args == {
        "identifier": "ana@example.com",
        "channel": "any",
        "conversation_id": "conv-id",
    }
    assert "identity.resolve_customer" not in {c.tool for c in gateway.calls}  # no lookup before verification

    done = await identity.send("123 456", "verify-identity", envelope=ANON, task=sent)
    assert done.result.status == "completed"
    assert done.result.auth_context == "signed.auth.context"
    assert done.result.customer is not None and done.result.customer.keys.msisdn == "+15550100123"
    assert "verified" in done.text
    check = gateway.last("identity.verify_code")
    assert check.args["code"] == "123456" and check.args["conversation_id"] == "conv-id"
    assert check.envelope is not None and check.envelope["conversation_id"] == "conv-id"
    assert check.bearer and unverified_subject(check.bearer) == "identity"
    assert [c.tool for c in done.result.tool_calls] == ["identity.verify_code"]


async def test_wrong_code_says_attempts_left_then_offers_another_way(start_specialist: StartSpecialist) -> None:
    identity = await start_specialist("identity")
    sent = await identity.send("my account is ACC-1234567", "verify-identity", envelope=ANON)
    wrong = await identity.send("111111", "verify-identity", envelope=ANON, task=sent)
    assert wrong.result.status == "input-required"
    assert "2 attempts left" in wrong.text
    wrong = await identity.send("222222", "verify-identity", envelope=ANON, task=wrong)
    assert "1 attempt left" in wrong.text
    locked = await identity.send("333333", "verify-identity", envelope=ANON, task=wrong)
    assert locked.result.status == "input-required"
    assert "another contact detail" in locked.text and "colleague" in locked.text


async def test_known_and_unknown_identifiers_get_the_same_words(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    identity = await start_specialist("identity")
    known = await identity.send("it's ana@example.com", "verify-identity", envelope=ANON)
    unknown = await identity.send("it's bob@nowhere.org", "verify-identity", envelope=ANON)
    assert known.text == unknown.text and known.result.status == unknown.result.status == "input-required"
    wrong_known = await identity.send("111111", "verify-identity", envelope=ANON, task=known)
    gateway.attempts_left = 3  # the fake counts for everyone; the real system per identifier
    wrong_unknown = await identity.send("111111", "verify-identity", envelope=ANON, task=unknown)
    assert wrong_known.text == wrong_unknown.text


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


async def test_a_corrected_identifier_while_waiting_for_a_code_starts_again(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    identity = await start_specialist("identity")
    sent = await identity.send("it's bob@nowhere.org", "verify-identity", envelope=ANON)
    again = await identity.send("sorry, it's ana@example.com", "verify-identity", envelope=ANON, task=sent)
    assert again.result.status == "input-required"
    assert gateway.last("identity.start_verification").args["identifier"] == "ana@example.com"
    done = await identity.send("123456", "verify-identity", envelope=ANON, task=again)
    assert done.result.status == "completed"
