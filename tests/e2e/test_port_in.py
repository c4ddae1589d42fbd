"""Bringing a number in through the customer HTTP API, with real A2A, MCP and the gateway: booked after
a yes with a reference the customer can ask about, refused for an unverified customer or a wrong code,
and held for a person during a fraud hold."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from mcp_servers.dataset import system_db_path
from tests.e2e.conftest import Chat, RunningStack
from tests.e2e.test_held_line_moves import _decide, _fraud_hold
from tests.governance.e2e_helpers import wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# Reference rows of the network's revision 0008: numbers at other providers and the codes they issued.
O2 = ("+447700901003", "OTW118604")
THREE = ("+447700901004", "THR902447")
GIFFGAFF = ("+447700901005", "GFF305518")
TESCO = ("+447700901006", "TSC640092")


def _bookings(running: RunningStack, number: str) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(running.data_dir, "network"))) as db:
        return db.execute("SELECT reference, msisdn FROM port_in_requests WHERE number = ?", (number,)).fetchall()


async def test_a_number_is_booked_after_a_yes_once_and_its_status_told_later(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    number, code = O2
    asked = await chat.verify(customer, f"i want to bring my number 07700 901003 over from O2, my PAC is {code}")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "number-porting", "input-required")
    assert "account holder" in asked["reply"] and not _bookings(running, number)
    booked = await chat.say("yes, it's my number")
    assert booked["status"] == "completed" and booked["data"]["requested"] is True, booked
    reference = booked["data"]["reference"]
    assert reference.startswith("PORT-") and reference in booked["reply"] and "O2" in booked["reply"]
    assert _bookings(running, number) == [(reference, customer["msisdn"])]

    status = await chat.say(f"how is my number transfer going? the reference was {reference}")
    assert status["skill"] == "number-porting" and status["status"] == "completed", status
    assert reference in status["reply"] and "booked to move" in status["reply"]

    again = await chat.say(f"please port 07700901003 in to my sim, the code is {code}")
    assert again["skill"] == "number-porting" and again["status"] == "input-required", again
    repeated = await chat.say("yes")
    assert repeated["data"]["already_requested"] is True and repeated["data"]["reference"] == reference, repeated
    assert len(_bookings(running, number)) == 1


async def test_an_unverified_customer_books_nothing(chat: Chat, running: RunningStack) -> None:
    number, code = THREE
    first = await chat.say(f"port my number {number} in from three please, PAC {code}")
    assert first["agent"] == "identity" and first["status"] == "input-required", first
    customer = running.claim_customer(has_recent_sim_swap=False)
    await chat.say(f"it's {customer['email']}")
    wrong = await chat.say("000000" if running.latest_code(customer["customer_id"]) != "000000" else "111111")
    assert wrong["agent"] == "identity" and wrong["status"] != "completed", wrong
    assert not _bookings(running, number)


async def test_a_malformed_or_wrong_porting_code_is_asked_for_again_and_nothing_booked(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    number, code = GIFFGAFF
    asked = await chat.verify(customer, f"i'd like to move my number {number} from giffgaff to you, pac is GF30551")
    assert asked["skill"] == "number-porting" and asked["status"] == "input-required", asked
    assert "three letters then six digits" in asked["reply"]
    proposal = await chat.say("sorry it's GFF000111")
    assert "account holder" in proposal["reply"], proposal
    mismatch = await chat.say("yes")
    assert mismatch["status"] == "input-required" and "isn't the one" in mismatch["reply"], mismatch
    assert not _bookings(running, number)
    fixed = await chat.say(f"oops, it should be {code}")
    assert "account holder" in fixed["reply"], fixed
    booked = await chat.say("yes")
    assert booked["data"]["requested"] is True and len(_bookings(running, number)) == 1, booked


async def test_during_a_fraud_hold_the_move_waits_for_a_person_and_is_booked_once_approved(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    number, code = TESCO
    async with _fraud_hold(running, customer):
        asked = await chat.verify(customer, f"bring my tesco mobile number {number} over to you, the pac is {code}")
        assert asked["skill"] == "number-porting" and asked["status"] == "input-required", asked
        held = await chat.say("yes")
        assert held["data"]["approval_pending"] is True and "as soon as it's approved" in held["reply"], held
        assert not _bookings(running, number)
        await _decide(running, held["data"]["approval_id"], "approve")
        transcript = await wait_for_text(chat.state, "Your reference is PORT-")
    bookings = _bookings(running, number)
    assert len(bookings) == 1 and bookings[0][0] in transcript[-1]["text"], (bookings, transcript[-1])
