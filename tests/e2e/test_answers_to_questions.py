"""A reply to a specialist's question stays with that specialist, however the router reads its words:
an address whose street sounds like a network fault, and a yes that vouches for itself at some length."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_bare_address_answers_the_question_for_it(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    asked = await chat.verify(customer, "I need to change my address on the account")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("identity", "update-contact", "input-required"), asked
    proposal = await chat.say("Flat 3, 9 Network Road, Signal Hill, SH1 1AA")
    assert (proposal["agent"], proposal["skill"]) == ("identity", "update-contact"), proposal
    assert "Flat 3, 9 Network Road, Signal Hill, SH1 1AA?" in proposal["reply"], proposal


async def test_a_yes_that_vouches_for_itself_books_the_move(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    # A number no other test on this stack books (the seeded codes of other providers are shared).
    asked = await chat.verify(customer, "i'd like to bring my number 07700 901010 over from iD mobile, PAC IDM215973")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "number-porting", "input-required"), asked
    booked = await chat.say("yes, I am the account holder and it's my own number")
    assert booked["skill"] == "number-porting" and booked["data"].get("requested") is True, booked
