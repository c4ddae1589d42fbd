"""What customers are told when they write as people do: typos, other languages, small talk,
requests we do not handle and two requests at once, through the customer HTTP API."""

from __future__ import annotations

import re

import pytest

from shared.skills import load_skills
from tests.e2e.conftest import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# Words and phrasings from inside the system that a customer must never read.
_INTERNAL = re.compile(
    r"\b(skill|specialist|hydrated|handoff|procedure|the customer|customer's|tool|escalation agent)\b", re.IGNORECASE
)
_DESCRIPTIONS = [s.description.split(":")[0].split(",")[0][:40] for s in load_skills()]


def _plain(reply: str) -> None:
    assert not _INTERNAL.search(reply), reply
    for description in _DESCRIPTIONS:
        assert description.lower() not in reply.lower(), (description, reply)


async def test_a_vague_message_gets_plain_options(chat: Chat) -> None:
    reply = await chat.say("i have a question about my account")
    assert reply["status"] == "clarify" and reply["agent"] is None, reply
    assert reply["reply"].endswith(("?", ".")) and " or " in reply["reply"]
    _plain(reply["reply"])


async def test_cancel_my_contract_is_answered_plainly_with_a_colleague_offered(chat: Chat) -> None:
    reply = await chat.say("cancel my contract")
    # Leaving is a contract question: who is asking is checked before the cost to leave is quoted.
    assert reply["route"]["skill"] == "contract-end" and reply["agent"] == "identity", reply
    _plain(reply["reply"])


async def test_a_typo_ridden_charged_twice_is_understood(chat: Chat) -> None:
    reply = await chat.say("i was chrged twise this mnth for my bil")
    assert reply["route"]["skill"] == "refund-charge", reply["route"]
    assert reply["agent"] == "identity", reply  # a refund needs a verified customer first
    _plain(reply["reply"])


async def test_a_puk_question_goes_to_service_troubleshooting(chat: Chat) -> None:
    reply = await chat.say("my phone is asking for a PUK code, what do i do")
    assert reply["route"]["skill"] == "troubleshoot-service", reply["route"]
    _plain(reply["reply"])


@pytest.mark.parametrize(
    ("text", "served", "yes"),
    [
        ("Hola, me han cobrado dos veces este mes", "inglés", "sí"),
        ("Hallo, mir wurde zweimal abgebucht, bitte helfen Sie mir", "Englisch", "ja"),
    ],
)
async def test_another_language_is_told_what_we_serve_and_offered_a_person(
    chat: Chat, text: str, served: str, yes: str
) -> None:
    reply = await chat.say(text)
    assert reply["route"]["intent"] == "other-language", reply["route"]
    assert served in reply["reply"] and yes in reply["reply"], reply["reply"]
    accepted = await chat.say(yes)
    assert accepted["agent"] == "escalation", accepted


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("thanks, that's all for today", "You're welcome"),
        ("hello", "How can I help"),
        ("how are you?", "doing well"),
    ],
)
async def test_small_talk_gets_a_natural_answer(chat: Chat, text: str, answer: str) -> None:
    reply = await chat.say(text)
    assert reply["status"] == "completed" and reply["agent"] is None, reply
    assert answer in reply["reply"]
    _plain(reply["reply"])


async def test_two_requests_are_both_understood_and_the_second_is_taken_up(chat: Chat) -> None:
    customer = chat.running.customers(1)[0]
    first = await chat.say("why is my bill so high this month, and also can you move me to a plan with more data")
    assert first["route"]["skill"] == "explain-bill" and first["route"]["then"]["skill"] == "change-plan"
    assert "After this I'll help with changing your plan." in first["reply"], first["reply"]
    assert (await chat.state())["queued"]["skill"] == "change-plan"
    await chat.say(f"it's {customer['email']}")
    done = await chat.say(chat.running.latest_code(customer["customer_id"]))
    assert "you also asked about changing your plan" in done["reply"], done["reply"]
    assert done["agent"] == "billing" and done["skill"] == "change-plan", done
    assert (await chat.state())["queued"] is None
