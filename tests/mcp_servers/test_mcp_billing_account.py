"""Billing's account tools over real HTTP: invoice copies, payment arrangements and closing an account."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers


def _rows(data_dir: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(data_dir / "systems" / "billing.db")) as db:
        return db.execute(sql, args).fetchall()


async def test_an_invoice_copy_goes_to_the_billing_contact_once_per_key(connect, data_dir):
    customer = sample_customers(data_dir, 1)[0]
    async with connect("billing") as billing:
        invoice = (await ok(billing, "list_invoices", {"msisdn": customer["msisdn"], "limit": 2}))["invoices"][1]
        args = {"msisdn": customer["msisdn"], "invoice_id": invoice["invoice_id"], "idempotency_key": "copy-1"}
        sent = await ok(billing, "send_invoice_copy", args, call_meta(agent="billing", audit_id="aud-9"))
        again = await ok(billing, "send_invoice_copy", args, call_meta(agent="billing", audit_id="aud-9"))
    assert sent == again and sent["period"] == invoice["period"]
    assert sent["sent_to"] == f"{customer['email'][0]}***@{customer['email'].split('@')[1]}"
    assert sent["link"].startswith(f"https://my.northwind.example/invoices/{invoice['invoice_id']}/")
    assert _rows(data_dir, "SELECT sent_to, agent, audit_id FROM invoice_copies") == [
        (customer["email"], "billing", "aud-9")
    ]


async def test_an_invoice_copy_is_refused_for_another_lines_invoice_or_no_contact(connect, data_dir):
    mine, theirs = sample_customers(data_dir, 2)
    async with connect("billing") as billing:
        other = (await ok(billing, "list_invoices", {"msisdn": theirs["msisdn"], "limit": 1}))["invoices"][0]
        args = {"msisdn": mine["msisdn"], "invoice_id": other["invoice_id"], "idempotency_key": "copy-2"}
        assert f"no invoice {other['invoice_id']} on {mine['msisdn']}" in await fails(
            billing, "send_invoice_copy", args, call_meta(agent="billing")
        )
        with closing(sqlite3.connect(data_dir / "systems" / "billing.db")) as db, db:
            db.execute("DELETE FROM billing_contacts WHERE msisdn = ?", (theirs["msisdn"],))
        args = {"msisdn": theirs["msisdn"], "invoice_id": other["invoice_id"], "idempotency_key": "copy-3"}
        assert "no billing email address on record" in await fails(
            billing, "send_invoice_copy", args, call_meta(agent="billing")
        )
        assert await fails(billing, "send_invoice_copy", {"msisdn": mine["msisdn"], "invoice_id": ""}, call_meta())
        assert "gateway" in await fails(billing, "send_invoice_copy", {**args, "idempotency_key": "copy-4"})
    assert _rows(data_dir, "SELECT COUNT(*) FROM invoice_copies") == [(0,)]


async def test_an_unpaid_invoice_is_arranged_in_equal_parts_once(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_unpaid_invoice=True)[0]
    async with connect("billing") as billing:
        invoice = (await ok(billing, "list_invoices", {"msisdn": customer["msisdn"], "limit": 1}))["invoices"][0]
        args = {
            "msisdn": customer["msisdn"],
            "invoice_id": invoice["invoice_id"],
            "amount": invoice["total"],
            "instalments": 3,
            "idempotency_key": "plan-1",
        }
        made = await ok(billing, "arrange_payment", args, call_meta())
        assert made == await ok(billing, "arrange_payment", args, call_meta())
        listed = await ok(billing, "list_payment_arrangements", {"msisdn": customer["msisdn"]})
    assert listed["arrangements"] == [made]
    assert [p["due_on"] for p in made["schedule"]] == sorted(p["due_on"] for p in made["schedule"])
    assert round(sum(p["amount"] for p in made["schedule"]), 2) == invoice["total"]
    assert len({p["due_on"][5:7] for p in made["schedule"]}) == 3


async def test_an_arrangement_is_refused_for_a_wrong_amount_a_paid_invoice_or_a_second_time(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_unpaid_invoice=True)[0]
    async with connect("billing") as billing:
        unpaid, paid = (await ok(billing, "list_invoices", {"msisdn": customer["msisdn"], "limit": 2}))["invoices"]
        base = {"msisdn": customer["msisdn"], "invoice_id": unpaid["invoice_id"], "instalments": 2}
        # A smaller figure than the invoice owes would slip under the approval policy: refused.
        text = await fails(billing, "arrange_payment", {**base, "amount": 1.0, "idempotency_key": "a"}, call_meta())
        assert f"owes {unpaid['total']:.2f}, not 1.00" in text
        paid_args = {**base, "invoice_id": paid["invoice_id"], "amount": paid["total"], "idempotency_key": "b"}
        assert "already paid" in await fails(billing, "arrange_payment", paid_args, call_meta())
        await ok(billing, "arrange_payment", {**base, "amount": unpaid["total"], "idempotency_key": "c"}, call_meta())
        again = {**base, "amount": unpaid["total"], "idempotency_key": "d"}
        assert "already has a payment arrangement" in await fails(billing, "arrange_payment", again, call_meta())
        too_many = {**base, "amount": unpaid["total"], "instalments": 13, "idempotency_key": "e"}
        assert await fails(billing, "arrange_payment", too_many, call_meta())
    assert _rows(data_dir, "SELECT COUNT(*) FROM payment_arrangements") == [(1,)]


async def test_closing_an_account_takes_the_contracts_fee_and_notice_once(connect, data_dir):
    customer = sample_customers(data_dir, 1)[0]
    async with connect("billing") as billing:
        contract = await ok(billing, "get_contract", {"msisdn": customer["msisdn"]})
        before = await ok(billing, "get_account_closure", {"msisdn": customer["msisdn"]})
        args = {"msisdn": customer["msisdn"], "reason": "moving abroad", "idempotency_key": "close-1"}
        closed = await ok(billing, "close_account", args, call_meta(agent="billing", audit_id="aud-5"))
        assert closed == await ok(billing, "close_account", args, call_meta(agent="billing", audit_id="aud-5"))
        after = await ok(billing, "get_account_closure", {"msisdn": customer["msisdn"]})
        account = await ok(billing, "get_account", {"msisdn": customer["msisdn"]})
        second = {**args, "idempotency_key": "close-2"}
        assert "is closing" in await fails(billing, "close_account", second, call_meta(agent="billing"))
        assert await fails(billing, "close_account", {**second, "reason": ""}, call_meta(agent="billing"))
        assert "no billing account" in await fails(
            billing, "close_account", {**second, "msisdn": "+447700900000"}, call_meta(agent="billing")
        )
    assert before == {"closing": False, "closure": None}
    assert after == {"closing": True, "closure": closed} and account["status"] == "closing"
    assert closed["exit_fee"] == contract["early_exit_fee"]
    assert _rows(data_dir, "SELECT agent, audit_id FROM account_closures") == [("billing", "aud-5")]
