"""A customer answers a clarifying question as people do, through the customer HTTP API: by naming
an option, counting to it, a bare yes when one option is clearly ahead, or a no."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# Requests the router is unsure of (checked in each test, so a retrained router that becomes
# sure of one fails here as such, not as a behaviour): a garbled copy (of a bill, or of a plan?),
# and a terse bill question, far ahead of the rest. Each retraining moves some: "bil copie" now
# reads as "bill copy", "paper copi" as asking for paper bills (which nothing here sends), "what is
# this pro rata adjustment" as too vague to name a skill, and "sim blocking" as a lost phone.
_GARBLED_COPY = "copy of tarif"
_GARBLED_AHEAD = "what is this adjustment line"
# Options close together: a refund for a charge, or where a refund already made is.
_CLOSE = "refund query"


def _ahead(reply: dict) -> bool:
    scores = [a["score"] for a in reply["route"]["alternatives"]]
    return scores[0] >= 2 * scores[1]


async def _clarified(chat: Chat, text: str) -> dict:
    reply = await chat.say(text)
    assert reply["status"] == "clarify" and " or " in reply["reply"], reply
    return reply


async def test_a_bare_yes_takes_the_option_that_is_clearly_ahead(chat: Chat) -> None:
    asked = await _clarified(chat, _GARBLED_AHEAD)
    assert "a question about your bill" in asked["reply"] and _ahead(asked), asked
    reply = await chat.say("yes")
    # The bill question needs a verified customer first: identity asks, and the question waits.
    assert reply["agent"] == "identity" and reply["status"] == "input-required", reply
    assert (await chat.state())["pending"]["skill"] == "explain-bill"


async def test_a_bare_yes_between_close_options_asks_again_and_a_count_chooses(chat: Chat) -> None:
    asked = await _clarified(chat, _CLOSE)
    assert not _ahead(asked), asked
    again = await chat.say("yes")
    assert again["status"] == "clarify" and "“the first”" in again["reply"], again
    first = asked["route"]["alternatives"][0]
    chosen = await chat.say("the first one")
    assert chosen["status"] != "clarify", chosen
    assert first["skill"] in {h["skill"] for h in (await chat.state())["handoffs"]} | {
        (await chat.state())["pending"]["skill"]
    }


async def test_naming_an_option_by_its_key_words_chooses_it(chat: Chat) -> None:
    await _clarified(chat, _GARBLED_COPY)
    reply = await chat.say("the bill one")
    assert reply["agent"] == "identity", reply
    assert (await chat.state())["pending"]["skill"] == "invoice-copy"


async def test_a_number_chooses_an_option(chat: Chat) -> None:
    asked = await _clarified(chat, _GARBLED_COPY)
    second = asked["route"]["alternatives"][1]["skill"]
    await chat.say("2")
    state = await chat.state()
    assert second in {h["skill"] for h in state["handoffs"]} | {(state["pending"] or {}).get("skill")}, state


async def test_no_gets_a_helpful_follow_up_with_a_person_offered(chat: Chat) -> None:
    await _clarified(chat, _GARBLED_COPY)
    reply = await chat.say("no")
    assert reply["agent"] is None and "in a few words" in reply["reply"] and "colleague" in reply["reply"], reply
    person = await chat.say("yes")
    assert person["agent"] == "escalation", person


async def test_neither_then_a_clear_request_is_routed_as_usual(chat: Chat) -> None:
    await _clarified(chat, _GARBLED_COPY)
    await chat.say("neither of those")
    reply = await chat.say("I want to change my plan")
    assert reply["route"]["skill"] == "change-plan", reply["route"]


async def test_a_request_that_opens_with_please_is_not_taken_as_a_yes_to_the_offered_person(chat: Chat) -> None:
    await _clarified(chat, _GARBLED_COPY)
    offered = await chat.say("neither")
    assert "colleague" in offered["reply"], offered
    reply = await chat.say("please email me a copy of my last bill")
    assert reply["agent"] == "identity" and reply["route"]["skill"] == "invoice-copy", reply
    assert (await chat.state())["pending"]["skill"] == "invoice-copy"
