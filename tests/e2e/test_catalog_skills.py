"""The catalog's newer skills through the customer HTTP API, with real A2A, MCP and the gateway."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from mcp_servers.dataset import system_db_path
from mcp_servers.identity.outbox import read_outbox
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _sim_status(running: RunningStack, msisdn: str) -> str:
    with closing(sqlite3.connect(system_db_path(running.data_dir, "network"))) as db:
        row = db.execute("SELECT sim_status FROM lines WHERE msisdn = ?", (msisdn,)).fetchone()
    return str(row[0])


async def test_a_stolen_phone_is_blocked_at_once_replaced_and_urgent(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_open_ticket=False, in_outage_area=False)
    assert _sim_status(running, customer["msisdn"]) == "active"
    blocked = await chat.verify(customer, "my phone was stolen on the bus, block my sim")
    assert (blocked["agent"], blocked["skill"], blocked["status"]) == ("support", "report-lost-phone", "completed")
    assert blocked["data"]["priority"] == "urgent" and blocked["data"]["order_id"].startswith("SIM-")
    assert "blocked the SIM" in blocked["reply"] and blocked["data"]["ticket_id"] in blocked["reply"]
    assert _sim_status(running, customer["msisdn"]) == "blocked"

    tickets = await chat.say("what's the status of my ticket?")
    assert tickets["skill"] == "ticket-status", tickets
    assert f"{blocked['data']['ticket_id']}" in tickets["reply"] and "urgent priority" in tickets["reply"]


async def test_a_forgotten_password_gets_a_reset_link_by_email_after_a_code(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    helped = await chat.verify(customer, "i forgot my password and cant get into the app")
    assert (helped["agent"], helped["skill"], helped["status"]) == ("identity", "sign-in-help", "completed"), helped
    assert helped["data"]["purpose"] == "password-reset" and customer["email"] not in helped["reply"]
    sent = read_outbox(running.data_dir, customer_id=customer["customer_id"], limit=1)[-1]
    assert sent["channel"] == "email" and sent["to"] == customer["email"] and "new password" in sent["text"]


async def test_the_fee_to_leave_early_is_quoted_from_the_contract(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    quote = await chat.verify(customer, "how much is the cancellation fee if i leave before my contract ends")
    assert (quote["agent"], quote["skill"], quote["status"]) == ("billing", "contract-end", "completed"), quote
    data = quote["data"]
    if data["in_minimum_term"]:
        assert f"£{data['early_exit_fee']:.2f}" in quote["reply"] and data["months_remaining"] > 0
    else:
        assert "no fee" in quote["reply"] and data["early_exit_fee"] == 0
    assert "colleague" in quote["reply"]


async def test_a_complaint_raises_priority_and_a_person_is_still_one_ask_away(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_open_ticket=False)
    recorded = await chat.verify(customer, "i want to complain, the engineer missed two appointments in a row")
    assert (recorded["agent"], recorded["skill"], recorded["status"]) == ("support", "make-complaint", "completed")
    assert recorded["data"]["priority"] == "high" and recorded["data"]["ticket_id"] in recorded["reply"]
    person = await chat.say("actually yes, put me through to a person please")
    assert person["agent"] == "escalation", person


async def test_cancelling_gets_the_cost_an_offer_to_stay_and_a_colleague_on_yes(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, plan_id="NW-MAX-150")
    quote = await chat.verify(customer, "i want to cancel my contract and leave")
    assert (quote["agent"], quote["skill"], quote["status"]) == ("billing", "contract-end", "completed"), quote
    assert quote["data"]["offered_plan"] and "less than now" in quote["reply"]
    person = await chat.say("yes please")
    assert person["agent"] == "escalation", person


def _order_being_prepared(running: RunningStack) -> tuple[dict, str]:
    with closing(sqlite3.connect(system_db_path(running.data_dir, "support"))) as db:
        emails = dict(db.execute("SELECT email, order_id FROM orders WHERE status = 'processing'").fetchall())
    customer = next(
        c for c in reversed(running.customers(240)) if c["email"] in emails and c["customer_id"] not in running.claimed
    )
    running.claimed.add(customer["customer_id"])
    return customer, emails[customer["email"]]


async def test_an_order_is_tracked_then_cancelled_while_it_is_prepared(chat: Chat, running: RunningStack) -> None:
    customer, order_id = _order_being_prepared(running)
    tracked = await chat.verify(customer, "where is my order, i ordered something last week")
    assert (tracked["agent"], tracked["skill"], tracked["status"]) == ("support", "track-order", "completed"), tracked
    assert order_id in tracked["reply"] and "being prepared" in tracked["reply"]
    proposal = await chat.say(f"actually please cancel order {order_id}")
    assert (proposal["skill"], proposal["status"]) == ("track-order", "input-required"), proposal
    cancelled = await chat.say("yes please")
    assert cancelled["skill"] == "track-order" and cancelled["data"]["status"] == "cancelled", cancelled
    with closing(sqlite3.connect(system_db_path(running.data_dir, "support"))) as db:
        (status,) = db.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    assert status == "cancelled"


async def test_a_declined_card_is_explained_and_autopay_switched_on(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_duplicate_charge=False, has_recent_sim_swap=False)
    explained = await chat.verify(customer, "my card was declined, why did my payment fail")
    assert (explained["agent"], explained["skill"]) == ("payment", "payment-method"), explained
    assert f"card ending {explained['reply'].split('card ending ')[1][:4]}" in explained["reply"]
    proposal = await chat.say("please turn on autopay")
    assert (proposal["skill"], proposal["status"]) == ("payment-method", "input-required"), proposal
    switched = await chat.say("yes please")
    assert switched["skill"] == "payment-method", switched
    assert switched["data"]["autopay"] is True
    with closing(sqlite3.connect(system_db_path(running.data_dir, "payments"))) as db:
        (autopay,) = db.execute(
            "SELECT autopay FROM payment_methods WHERE account_number = ?", (customer["account_number"],)
        ).fetchone()
    assert autopay == 1
