"""verify-identity against the real identity system: identifier, code, wrong codes, lock-out, unknown customer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from shared.envelope import ContextEnvelope
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def identity(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(Path(tmp_path_factory.mktemp("identity")), "identity") as running:
        yield running


def anonymous() -> ContextEnvelope:
    return ContextEnvelope(conversation_id=f"conv-{uuid.uuid4().hex[:8]}")


async def test_verifies_with_identifier_and_code(identity: AgentOnStack) -> None:
    ana = identity.customers(10)[0]
    anon = anonymous()
    first = await identity.specialist.send("hi, I need help", "verify-identity", envelope=anon)
    assert first.result.status == "input-required"
    assert "email address, phone number or account number" in first.text

    sent = await identity.specialist.send(f"it's {ana['email']}", "verify-identity", envelope=anon, task=first)
    assert sent.result.status == "input-required"
    assert "I've sent a 6-digit code to the email address or mobile number" in sent.text
    calls = identity.calls(anon.conversation_id)
    assert [c.tool for c in calls] == ["identity.start_verification"]  # no lookup before verification
    assert calls[0].args["identifier"] == ana["email"] and calls[0].args["conversation_id"] == anon.conversation_id

    code = identity.latest_code(ana["customer_id"])
    done = await identity.specialist.send(f"{code[:3]} {code[3:]}", "verify-identity", envelope=anon, task=sent)
    assert done.result.status == "completed" and "verified" in done.text
    assert done.result.auth_context and done.result.customer is not None
    assert done.result.customer.keys.msisdn == ana["msisdn"]
    check = identity.calls(anon.conversation_id)[-1]
    assert check.tool == "identity.verify_code" and check.decision == "allow"
    assert check.args["code"] == code and check.args["conversation_id"] == anon.conversation_id


async def test_wrong_code_says_attempts_left_then_offers_another_way(identity: AgentOnStack) -> None:
    who = identity.customers(10)[1]
    anon = anonymous()
    sent = await identity.specialist.send(f"my account is {who['account_number']}", "verify-identity", envelope=anon)
    wrong = await identity.specialist.send("111111", "verify-identity", envelope=anon, task=sent)
    assert wrong.result.status == "input-required" and "2 attempts left" in wrong.text
    wrong = await identity.specialist.send("222222", "verify-identity", envelope=anon, task=wrong)
    assert "1 attempt left" in wrong.text
    spent = await identity.specialist.send("333333", "verify-identity", envelope=anon, task=wrong)
    assert spent.result.status == "input-required"
    assert "can't be used again" in spent.text and "new code" in spent.text
    # The identity system locks the details after five wrong codes in an hour, whichever code they were for.
    fresh = await identity.specialist.send("new code", "verify-identity", envelope=anon, task=spent)
    wrong = await identity.specialist.send("444444", "verify-identity", envelope=anon, task=fresh)
    locked = await identity.specialist.send("555555", "verify-identity", envelope=anon, task=wrong)
    assert locked.result.status == "input-required"
    assert "another contact detail" in locked.text and "colleague" in locked.text


async def test_known_and_unknown_identifiers_get_the_same_words(identity: AgentOnStack) -> None:
    who = identity.customers(10)[2]
    known = await identity.specialist.send(f"it's {who['email']}", "verify-identity", envelope=anonymous())
    unknown = await identity.specialist.send("it's bob@nowhere.org", "verify-identity", envelope=anonymous())
    assert known.text == unknown.text and known.result.status == unknown.result.status == "input-required"
    wrong_known = await identity.specialist.send("111111", "verify-identity", envelope=anonymous(), task=known)
    wrong_unknown = await identity.specialist.send("111111", "verify-identity", envelope=anonymous(), task=unknown)
    assert wrong_known.text == wrong_unknown.text


async def test_code_prompt_repeats_when_no_code_given(identity: AgentOnStack) -> None:
    who = identity.customers(10)[3]
    sent = await identity.specialist.send(who["msisdn"], "verify-identity", envelope=anonymous())
    again = await identity.specialist.send("what code?", "verify-identity", envelope=anonymous(), task=sent)
    assert again.result.status == "input-required" and "6-digit code" in again.text


async def test_already_verified_customer_is_not_asked_again(identity: AgentOnStack) -> None:
    envelope = identity.envelope(identity.customers(10)[4])
    answer = await identity.specialist.send("verify me", "verify-identity", envelope=envelope)
    assert answer.result.status == "completed" and answer.result.auth_context == envelope.auth_context
    assert identity.calls(envelope.conversation_id) == []


async def test_a_corrected_identifier_while_waiting_for_a_code_starts_again(identity: AgentOnStack) -> None:
    who = identity.customers(10)[5]
    anon = anonymous()
    sent = await identity.specialist.send("it's bob@nowhere.org", "verify-identity", envelope=anon)
    again = await identity.specialist.send(f"sorry, it's {who['email']}", "verify-identity", envelope=anon, task=sent)
    assert again.result.status == "input-required"
    assert identity.calls(anon.conversation_id)[-1].args["identifier"] == who["email"]
    code = identity.latest_code(who["customer_id"])
    done = await identity.specialist.send(code, "verify-identity", envelope=anon, task=again)
    assert done.result.status == "completed"


@pytest.mark.parametrize(
    "text",
    [
        "bring my number 07700 901001 over from vodafone, the pac is VOD481273",
        "please port +447700901002 in to my sim",
    ],
)
async def test_a_number_being_brought_in_is_not_taken_for_the_customers_own(identity: AgentOnStack, text: str) -> None:
    anon = anonymous()
    asked = await identity.specialist.send(text, "verify-identity", envelope=anon)
    assert asked.result.status == "input-required" and "email address, phone number or account number" in asked.text
    assert identity.calls(anon.conversation_id) == []  # no code sent to a number that is on no account here


async def test_the_customers_own_number_still_starts_a_verification(identity: AgentOnStack) -> None:
    who = identity.customers(10)[5]
    anon = anonymous()
    sent = await identity.specialist.send(
        f"my number is {who['msisdn']}, I need help", "verify-identity", envelope=anon
    )
    assert "6-digit code" in sent.text and [c.tool for c in identity.calls(anon.conversation_id)] == [
        "identity.start_verification"
    ]
