"""Payments over real HTTP: charges, duplicates and refunds (validated, exactly once per key)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers, system_db_path
from mcp_servers.payments.backend import FIRST_OF_INVOICE


async def _duplicate(payments, account_number: str) -> dict:
    found = (await ok(payments, "find_duplicate_charges", {"account_number": account_number}))["duplicates"]
    assert len(found) >= 1
    return found[0]


async def test_charges_and_duplicates(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_duplicate_charge=True)[0]
    async with connect("payments") as payments:
        charges = (await ok(payments, "list_charges", {"account_number": customer["account_number"]}))["charges"]
        assert charges and all(c["status"] == "settled" and c["currency"] == "GBP" for c in charges)
        dup = await _duplicate(payments, customer["account_number"])
        by_id = {c["charge_id"]: c for c in charges}
        assert dup["duplicate_of"] != dup["charge_id"]
        assert by_id[dup["duplicate_of"]]["invoice_id"] == dup["invoice_id"]
        assert by_id[dup["charge_id"]]["charged_at"] > by_id[dup["duplicate_of"]]["charged_at"]
    clean = sample_customers(data_dir, 1, has_duplicate_charge=False)[0]
    async with connect("payments") as payments:
        assert (await ok(payments, "find_duplicate_charges", {"account_number": clean["account_number"]}))[
            "duplicates"
        ] == []


async def test_same_key_refunds_once(connect, data_dir):
    account = sample_customers(data_dir, 1, has_duplicate_charge=True)[0]["account_number"]
    async with connect("payments") as payments:
        dup = await _duplicate(payments, account)
        args = {
            "account_number": account,
            "charge_id": dup["charge_id"],
            "amount": dup["amount"],
            "reason": "duplicate charge",
            "idempotency_key": "refund-1",
        }
        meta = call_meta(agent="payment", audit_id="aud-42")
        results = await asyncio.gather(*(ok(payments, "issue_refund", args, meta) for _ in range(3)))
        assert all(r == results[0] for r in results)
        assert results[0]["amount"] == dup["amount"] and results[0]["status"] == "succeeded"
        refunds = (await ok(payments, "list_refunds", {"account_number": account}))["refunds"]
        assert [r["refund_id"] for r in refunds] == [results[0]["refund_id"]]
        charges = (await ok(payments, "list_charges", {"account_number": account, "limit": 50}))["charges"]
        charge = next(c for c in charges if c["charge_id"] == dup["charge_id"])
        assert (charge["status"], charge["refunded_amount"]) == ("refunded", dup["amount"])
        assert (await ok(payments, "find_duplicate_charges", {"account_number": account}))["duplicates"] == [
            d
            for d in (await ok(payments, "find_duplicate_charges", {"account_number": account}))["duplicates"]
            if d["charge_id"] != dup["charge_id"]
        ]
    with closing(sqlite3.connect(data_dir / "systems" / "payments.db")) as db:
        rows = db.execute("SELECT agent, audit_id, conversation_id FROM refunds").fetchall()
    assert rows == [("payment", "aud-42", "conv-1")]


async def test_refund_validation(connect, data_dir):
    customer, other = sample_customers(data_dir, 2, has_duplicate_charge=True)
    account = customer["account_number"]
    meta = call_meta()
    async with connect("payments") as payments:
        dup = await _duplicate(payments, account)

        def refund(key: str, **over) -> dict:
            return {
                "account_number": account,
                "charge_id": dup["charge_id"],
                "amount": 1.0,
                "reason": "duplicate",
                "idempotency_key": key,
                **over,
            }

        text = await fails(payments, "issue_refund", refund("a", amount=dup["amount"] + 0.01), meta)
        assert "more than" in text and "refundable" in text
        text = await fails(payments, "issue_refund", refund("b", charge_id="CH-NOPE"), meta)
        assert "no charge CH-NOPE" in text
        other_dup = await _duplicate(payments, other["account_number"])
        text = await fails(payments, "issue_refund", refund("c", charge_id=other_dup["charge_id"]), meta)
        assert "no charge" in text
        assert "greater than 0" in await fails(payments, "issue_refund", refund("d", amount=-5), meta)
        assert "pounds and pence" in await fails(payments, "issue_refund", refund("e", amount=1.005), meta)
        assert "no payments account" in await fails(
            payments, "issue_refund", refund("f", account_number="ACC-0000000"), meta
        )
        await ok(payments, "issue_refund", refund("g", amount=dup["amount"]), meta)
        assert "already fully refunded" in await fails(payments, "issue_refund", refund("h"), meta)
        text = await fails(payments, "issue_refund", refund("g", amount=2.0), meta)
        assert "different issue_refund request" in text
        assert "gateway" in await fails(payments, "issue_refund", refund("i"))


async def test_partial_refunds_add_up(connect, data_dir):
    account = sample_customers(data_dir, 1, has_duplicate_charge=True)[0]["account_number"]
    async with connect("payments") as payments:
        dup = await _duplicate(payments, account)
        base = {"account_number": account, "charge_id": dup["charge_id"], "reason": "goodwill"}
        await ok(payments, "issue_refund", {**base, "amount": 1.0, "idempotency_key": "p1"}, call_meta())
        remaining = (await _duplicate(payments, account))["refundable_amount"]
        assert remaining == round(dup["amount"] - 1.0, 2)
        text = await fails(
            payments, "issue_refund", {**base, "amount": dup["amount"], "idempotency_key": "p2"}, call_meta()
        )
        assert f"£{remaining:.2f}" in text


async def test_refund_facts_come_from_the_record_not_the_caller(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_duplicate_charge=True)[0]
    account = customer["account_number"]
    async with connect("payments") as payments:
        dup = await _duplicate(payments, account)
        facts = await ok(payments, "refund_facts", {"account_number": account, "charge_id": dup["charge_id"]})
        assert (facts["duplicate"], facts["flagged_error"], facts["refunded_today"]) == (True, False, 0.0)
        original = await ok(payments, "refund_facts", {"account_number": account, "charge_id": dup["duplicate_of"]})
        assert (original["duplicate"], original["flagged_error"]) == (False, False)
        args = {"account_number": account, "charge_id": dup["charge_id"], "amount": 1.0, "reason": "duplicate"}
        await ok(payments, "issue_refund", {**args, "idempotency_key": "f-1"}, call_meta())
        after = await ok(payments, "refund_facts", {"account_number": account, "charge_id": dup["duplicate_of"]})
        assert after["refunded_today"] == 1.0 and after["refunded_on_charge"] == 0.0
        again = await ok(payments, "refund_facts", {"account_number": account, "charge_id": dup["charge_id"]})
        assert again["refunded_on_charge"] == 1.0 and again["refundable_amount"] == round(dup["amount"] - 1.0, 2)
    with closing(sqlite3.connect(data_dir / "systems" / "payments.db")) as db, db:
        db.execute(
            "INSERT INTO charge_flags VALUES (?, 'processor error', '2026-01-01T00:00:00Z')", (dup["duplicate_of"],)
        )
    async with connect("payments") as payments:
        flagged = await ok(payments, "refund_facts", {"account_number": account, "charge_id": dup["duplicate_of"]})
        assert flagged["flagged_error"] is True


async def test_payment_method_shows_an_expired_card_and_autopay_switches_once_per_key(connect, data_dir):
    customers = sample_customers(data_dir, 10)
    async with connect("payments") as payments:
        methods = [await ok(payments, "get_payment_method", {"account_number": c["account_number"]}) for c in customers]
        assert any(m["card_expired"] for m in methods) and any(not m["card_expired"] for m in methods)
        assert all(len(m["card_last4"]) == 4 for m in methods)
        account = customers[-1]["account_number"]
        args = {"account_number": account, "enabled": True, "idempotency_key": "ap-1"}
        assert "call context" in await fails(payments, "set_autopay", args)
        on = await ok(payments, "set_autopay", args, call_meta("payment"))
        assert on["autopay"] is True
        assert await ok(payments, "set_autopay", args, call_meta("payment")) == on
        off = await ok(payments, "set_autopay", {**args, "enabled": False, "idempotency_key": "ap-2"}, call_meta())
        assert off["autopay"] is False
        assert (await ok(payments, "get_payment_method", {"account_number": account}))["autopay"] is False
        assert "no payment method" in await fails(payments, "get_payment_method", {"account_number": "ACC-0000000"})


def test_the_earliest_charge_of_an_invoice_is_found_by_index(data_dir: Path) -> None:
    # Duplicates and the refund policy's facts both ask this once per charge: a scan of every
    # charge each time made one customer's duplicate check cost milliseconds.
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        plan = db.execute(f"EXPLAIN QUERY PLAN SELECT {FIRST_OF_INVOICE} FROM charges c WHERE c.charge_id = ?", ("x",))
        steps = [row[3] for row in plan]
    assert not [s for s in steps if s.startswith("SCAN")], steps
