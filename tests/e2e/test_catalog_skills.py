"""The catalog's newer skills through the customer HTTP API, with real A2A, MCP and the gateway."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import date

import pytest

from mcp_servers.dataset import system_db_path
from mcp_servers.identity.outbox import read_outbox
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import staff, wait_for_text

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
    cancelled = await chat.say("yes, cancel it")  # answers the question; "cancel" is no new topic
    assert cancelled["skill"] == "track-order" and cancelled["data"].get("status") == "cancelled", cancelled
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


def _network(running: RunningStack, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(running.data_dir, "network"))) as db:
        rows = db.execute(sql, args).fetchall()
        db.commit()
    return rows


async def test_roaming_off_abroad_is_explained_and_switched_on_after_a_yes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    _network(running, "UPDATE lines SET roaming = 0 WHERE msisdn = ?", customer["msisdn"])
    asked = await chat.verify(customer, "my phone isn't working here in portugal")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "roaming", "input-required"), asked
    assert "Roaming is switched off on your line" in asked["reply"] and not _network(
        running, "SELECT 1 FROM roaming_settings WHERE msisdn = ?", customer["msisdn"]
    )
    switched = await chat.say("yes please")
    assert (switched["skill"], switched["status"]) == ("roaming", "completed"), switched
    assert "roaming is now on" in switched["reply"] and switched["data"]["enabled"] is True
    assert _network(running, "SELECT enabled FROM roaming_settings WHERE msisdn = ?", customer["msisdn"]) == [(1,)]


async def test_a_porting_code_is_issued_only_after_a_yes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    asked = await chat.verify(customer, "i need my PAC code, i'm switching to another network")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "number-porting", "input-required"), asked
    assert not _network(running, "SELECT 1 FROM porting_codes WHERE msisdn = ?", customer["msisdn"])
    issued = await chat.say("yes")
    code = issued["data"]["code"]
    assert re.fullmatch(r"[A-Z]{3}\d{6}", code) and f"Your porting code is {code}" in issued["reply"], issued
    assert _network(running, "SELECT code FROM porting_codes WHERE msisdn = ?", customer["msisdn"]) == [(code,)]


async def test_an_esim_is_set_up_with_its_code_after_a_yes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    asked = await chat.verify(customer, "can you send me an esim qr code for my new phone")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "esim-activation", "input-required"), asked
    assert "stops working" in asked["reply"]
    done = await chat.say("yes go ahead")
    assert done["data"]["sim_type"] == "esim" and done["data"]["activation_code"] in done["reply"], done
    assert _network(running, "SELECT sim_type FROM sim_activations WHERE msisdn = ?", customer["msisdn"]) == [("esim",)]


async def test_an_outage_is_compensated_once_on_the_next_bill(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, in_outage_area=False)
    _network(running, "UPDATE lines SET area = 'Glenbrook' WHERE msisdn = ?", customer["msisdn"])
    offered = await chat.verify(customer, "can i get compensation for the outage last week")
    assert (offered["agent"], offered["skill"], offered["status"]) == ("support", "outage-status", "input-required")
    assert "£10.00" in offered["reply"] and "30 hours" in offered["reply"], offered
    credited = await chat.say("yes please")
    assert credited["data"]["credited"] is True and credited["data"]["credit_id"] in credited["reply"], credited
    again = await chat.say("am i owed anything for the outage last week")
    assert again["skill"] == "outage-status", again
    twice = await chat.say("yes")
    assert "already been credited" in twice["reply"], twice
    with closing(sqlite3.connect(system_db_path(running.data_dir, "billing"))) as db:
        rows = db.execute("SELECT amount_pence, reference FROM credits WHERE msisdn = ?", (customer["msisdn"],))
        assert rows.fetchall() == [(1000, "OUT-101")]


async def test_a_fraud_report_locks_the_line_at_once_and_then_no_porting_code_is_issued(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    reported = await chat.verify(customer, "someone is using my account, there are calls on my bill i never made")
    assert (reported["agent"], reported["skill"], reported["status"]) == ("support", "report-fraud", "completed")
    assert reported["data"]["priority"] == "urgent" and reported["data"]["ticket_id"] in reported["reply"]
    assert "put you through" in reported["reply"]
    assert _network(running, "SELECT 1 FROM line_locks WHERE msisdn = ?", customer["msisdn"]) == [(1,)]
    asked = await chat.say("and can you give me my porting code please")
    assert asked["skill"] == "number-porting", asked
    refused = await chat.say("yes")
    assert "can't issue a porting code" in refused["reply"] and refused["data"]["issued"] is False, refused
    assert not _network(running, "SELECT 1 FROM porting_codes WHERE msisdn = ?", customer["msisdn"])


async def test_a_phone_is_ordered_after_a_yes_and_then_tracked(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    asked = await chat.verify(customer, "i'd like to order a pixel 9 with next day delivery")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("support", "order-device", "input-required"), asked
    assert "£699.00" in asked["reply"] and "next-day" in asked["reply"]
    ordered = await chat.say("yes")
    order_id = ordered["data"]["order_id"]
    assert ordered["data"]["ordered"] is True and order_id in ordered["reply"], ordered
    tracked = await chat.say("where is my order")
    assert tracked["skill"] == "track-order" and order_id in tracked["reply"] and "being prepared" in tracked["reply"]


async def test_what_no_specialist_does_gets_a_polite_no_and_a_person_on_offer(chat: Chat) -> None:
    answer = await chat.say("do you do home broadband")
    assert answer["agent"] is None and answer["status"] == "completed", answer
    assert answer["reply"].startswith("I'm sorry, that's not something I can do here")
    assert "colleague" in answer["reply"]


def _rows(running: RunningStack, system: str, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(running.data_dir, system))) as db:
        return db.execute(sql, args).fetchall()


async def test_an_invoice_copy_goes_to_the_billing_address_on_record_after_a_yes(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    (invoice_id, period), *_ = _rows(
        running,
        "billing",
        "SELECT invoice_id, period FROM invoices WHERE msisdn = ? ORDER BY issued_on DESC LIMIT 1 OFFSET 1",
        customer["msisdn"],
    )
    month = date.fromisoformat(f"{period}-01").strftime("%B")
    offered = await chat.verify(customer, f"can you resend my {month} bill please")
    assert (offered["agent"], offered["skill"], offered["status"]) == ("billing", "invoice-copy", "input-required")
    assert invoice_id in offered["reply"] and "£" in offered["reply"]
    assert _rows(running, "billing", "SELECT 1 FROM invoice_copies WHERE msisdn = ?", customer["msisdn"]) == []
    sent = await chat.say("yes please")
    assert sent["skill"] == "invoice-copy" and sent["data"]["sent"] is True, sent
    assert customer["email"] not in sent["reply"] and f"{customer['email'][0]}***@" in sent["reply"]
    copies = _rows(
        running, "billing", "SELECT invoice_id, sent_to FROM invoice_copies WHERE msisdn = ?", customer["msisdn"]
    )
    assert copies == [(invoice_id, customer["email"])]


async def test_a_missing_refund_with_a_duplicate_charge_is_offered_the_refund(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_duplicate_charge=True, has_recent_sim_swap=False)
    answer = await chat.verify(customer, "I never got my refund, how long do refunds take")
    assert (answer["agent"], answer["skill"], answer["status"]) == ("payment", "refund-status", "completed"), answer
    assert "duplicate charge of £" in answer["reply"] and "3 to 5 working days" in answer["reply"]
    assert answer["data"]["refunds"] == [] and answer["data"]["duplicate_offered"]
    proposal = await chat.say("yes")
    assert (proposal["skill"], proposal["status"]) == ("refund-charge", "input-required"), proposal
    assert proposal["data"]["charge_id"] == answer["data"]["duplicate_offered"]


async def test_a_bill_is_split_into_three_payments_on_a_yes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_unpaid_invoice=True, has_recent_sim_swap=False)
    asked = await chat.verify(customer, "i can't pay my bill in one go, can i split it into 3 payments")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("payment", "payment-arrangement", "input-required")
    assert "3 monthly payments" in asked["reply"], asked
    arranged = await chat.say("yes")
    assert arranged["data"]["arranged"] is True and arranged["data"]["instalments"] == 3, arranged
    rows = _rows(
        running, "billing", "SELECT instalments, agent FROM payment_arrangements WHERE msisdn = ?", customer["msisdn"]
    )
    assert rows == [(3, "payment")]
    assert arranged["data"]["arrangement_id"] in arranged["reply"]


async def test_closing_an_account_waits_for_a_person_then_closes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    quote = await chat.verify(customer, "please close my account, i'm moving abroad")
    assert (quote["agent"], quote["skill"], quote["status"]) == ("billing", "close-account", "input-required"), quote
    assert "approves every closure" in quote["reply"]
    held = await chat.say("yes")
    assert held["data"].get("approval_pending") is True, held
    assert _rows(running, "billing", "SELECT status FROM accounts WHERE msisdn = ?", customer["msisdn"]) == [
        ("active",)
    ]

    gateway = running.topology.gateway
    approved = await staff(
        gateway, running.data_dir, "approver", "POST", f"/approvals/{held['data']['approval_id']}/approve", {}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "executed", approved.text
    await wait_for_text(chat.state, "Your account is closing")
    assert _rows(running, "billing", "SELECT status FROM accounts WHERE msisdn = ?", customer["msisdn"]) == [
        ("closing",)
    ]


async def test_the_email_on_the_account_changes_after_a_code_and_a_yes(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False)
    new = f"fresh.{customer['customer_id'].lower()}@example.net"
    asked = await chat.verify(customer, f"i want to change my email address to {new}")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("identity", "update-contact", "input-required"), asked
    assert new in asked["reply"] and customer["email"] not in asked["reply"]
    done = await chat.say("yes")
    assert done["status"] == "completed" and done["data"]["changed"] is True, done
    assert _rows(running, "identity", "SELECT email FROM customers WHERE customer_id = ?", customer["customer_id"]) == [
        (new,)
    ]


async def test_switching_to_another_account_verifies_that_account_first(chat: Chat, running: RunningStack) -> None:
    first = running.claim_customer(has_recent_sim_swap=False)
    other = running.claim_customer(has_recent_sim_swap=False)
    asked = await chat.verify(first, "i have two accounts, can we switch to my other one")
    assert (asked["agent"], asked["skill"], asked["status"]) == ("identity", "switch-account", "input-required"), asked
    sent = await chat.say(f"it's {other['email']}")
    assert sent["skill"] == "switch-account" and sent["status"] == "input-required", sent
    assert (await chat.state())["customer_name"] == first["display_name"]
    switched = await chat.say(running.latest_code(other["customer_id"]))
    assert switched["status"] == "completed" and switched["data"]["customer_id"] == other["customer_id"], switched
    assert (await chat.state())["customer_name"] == other["display_name"]


async def test_a_newcomer_hears_the_plans_without_verifying_and_reaches_a_colleague(
    chat: Chat, running: RunningStack
) -> None:
    joined = await chat.say("hi, I'm not with you yet. how do I open an account?")
    assert (joined["agent"], joined["skill"], joined["status"]) == ("billing", "open-account", "completed"), joined
    assert "£" in joined["reply"] and "a month" in joined["reply"]
    assert (await chat.state())["verified"] is False
    person = await chat.say("yes please")
    assert person["agent"] == "escalation", person
