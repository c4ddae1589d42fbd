"""The phone line, driven with form posts exactly as the voice platform sends them."""

from __future__ import annotations

import httpx
import pytest

from shared.skills import load_skills
from tests.channels.twilio_calls import Call, fields, listens, spoken
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_conversation_moves_from_web_to_phone_without_verifying_again(
    chat: Chat, http: httpx.AsyncClient, running: RunningStack
) -> None:
    customer = running.customers(12, has_duplicate_charge=True)[9]
    verified = await chat.verify(customer, "can you explain my last bill?")
    assert verified["verified"], verified
    link = await http.post(
        f"/api/conversations/{chat.conversation_id}/phone-link", headers={"Authorization": f"Bearer {chat.token}"}
    )
    code = link.json()["code"]

    call = Call(http, "CA" + "a1" * 16, caller="+15550100123")  # not the customer's number: it proves nothing
    welcome = await call.ring()
    assert listens(welcome) and "code" in spoken(welcome)
    linked = await call.say(" ".join(code))  # read back digit by digit, as speech recognition does
    assert listens(linked)
    assert "still verified" in spoken(linked) and customer["display_name"].split()[0] in spoken(linked)

    refund = await call.say("I think I was charged twice, I want my money back")
    assert listens(refund)
    assert "confirm who you are" not in spoken(refund).lower()

    state = await chat.state()
    assert state["verified"] and state["conversation_id"] == chat.conversation_id
    assert [h["to_agent"] for h in state["handoffs"]].count("identity") == 1, "verified again on the phone"
    by_phone = [e for e in state["transcript"] if e["channel"] == "voice"]
    assert by_phone[0]["text"] == "I think I was charged twice, I want my money back"
    assert by_phone[1]["agent"] == "payment", by_phone
    # The code was spent: another call cannot use it.
    other = Call(http, "CA" + "b2" * 16, caller="+15550100124")
    await other.ring()
    assert "didn't match" in spoken(await other.keys(code))


async def test_caller_id_is_a_hint_and_the_code_is_still_needed(http: httpx.AsyncClient, running: RunningStack) -> None:
    customer = running.customers(200)[190]
    call = Call(http, "CA" + "c3" * 16, caller=customer["msisdn"])
    await call.ring()
    asked = await call.say("I'd like to understand my last bill")
    assert "this number" in spoken(asked), spoken(asked)
    sent = await call.say("it's this number")
    # No part of a contact detail before verification, on the phone either.
    assert "code" in spoken(sent) and "ending in" not in spoken(sent), spoken(sent)
    code = running.latest_code(customer["customer_id"])
    done = await call.keys(code)
    assert "verified" in spoken(done).lower() and listens(done), spoken(done)


async def test_wrong_link_codes_then_a_fresh_conversation(http: httpx.AsyncClient) -> None:
    call = Call(http, "CA" + "d4" * 16, caller="+15550100125")
    await call.ring()
    for _ in range(2):
        assert "didn't match" in spoken(await call.keys("00000000"))
    assert "start fresh" in spoken(await call.keys("00000001")).lower()
    answer = await call.say("why is my bill so high")
    assert listens(answer) and "confirm who you are" in spoken(answer).lower()


async def test_silence_is_prompted_then_the_call_ends(http: httpx.AsyncClient) -> None:
    call = Call(http, "CA" + "e5" * 16, caller="Anonymous")
    await call.ring()
    assert "didn't catch" in spoken(await call.silence())
    assert "didn't catch" in spoken(await call.silence())
    last = await call.silence()
    assert last.find("Hangup") is not None and last.find("Gather") is None


async def test_a_retried_first_request_keeps_the_call(http: httpx.AsyncClient) -> None:
    call = Call(http, "CA" + "f6" * 16, caller="+15550100126")
    await call.ring()
    await call.say("what plans do you have")
    again = await call.ring()
    assert "still here" in spoken(again)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/voice/twilio", {"From": "+15550100127"}, 400),
        ("/voice/twilio/gather", {"SpeechResult": "hello"}, 400),
        ("/voice/twilio/gather", {"CallSid": ""}, 400),
    ],
)
async def test_requests_that_are_not_the_platforms_are_refused(
    http: httpx.AsyncClient, path: str, body: dict, status: int
) -> None:
    response = await http.post(path, data=body)
    assert response.status_code == status and "CallSid" in response.text


async def test_oversized_and_non_utf8_webhooks_are_refused(http: httpx.AsyncClient) -> None:
    big = await http.post("/voice/twilio/gather", content=b"CallSid=CA1&SpeechResult=" + b"a" * 70_000)
    assert big.status_code == 413
    garbled = await http.post(
        "/voice/twilio/gather",
        content=b"CallSid=CA1&SpeechResult=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert garbled.status_code == 400
    assert (await http.get("/voice/twilio")).status_code == 405
    assert fields("CA1", "+1")["CallSid"] == "CA1"


async def test_continuing_by_phone_asks_the_pending_question_again(chat: Chat, http: httpx.AsyncClient) -> None:
    asked = await chat.say("can you explain my last bill?")
    assert asked["status"] == "input-required", asked
    link = await http.post(
        f"/api/conversations/{chat.conversation_id}/phone-link", headers={"Authorization": f"Bearer {chat.token}"}
    )
    assert link.json()["phone_number"], "the chat shows the number to call"
    call = Call(http, "CA" + "a3" * 16, caller="+15550100133")
    await call.ring()
    linked = await call.keys(link.json()["code"])
    words = spoken(linked)
    assert "You were asked:" in words and "email address" in words, words
    gather = linked.find("Gather")
    assert gather is not None and "my email is" in (gather.get("hints") or "")


async def test_a_clarifying_question_never_reads_out_skill_descriptions(http: httpx.AsyncClient) -> None:
    call = Call(http, "CA" + "a4" * 16, caller="+15550100134")
    await call.ring()
    for unclear in ("hello", "I have a question about something"):
        words = spoken(await call.say(unclear)).lower()
        # A greeting is now greeted back; a vague request still gets the phone line's plain question.
        assert "right place" in words or "how can i help" in words, words
        for skill in load_skills():  # the descriptions are written for the router, not for callers
            assert skill.description.rstrip(".").lower()[:40] not in words, skill.name
