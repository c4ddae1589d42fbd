"""Billing over real HTTP: accounts, invoices, plans, entitlements and plan changes."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers


async def test_account_invoices_and_plans(connect, data_dir):
    customer = sample_customers(data_dir, 1)[0]
    async with connect("billing") as billing:
        account = await ok(billing, "get_account", {"msisdn": customer["msisdn"]})
        assert account["plan_id"] == customer["plan_id"]
        invoices = (await ok(billing, "list_invoices", {"msisdn": customer["msisdn"], "limit": 6}))["invoices"]
        assert len(invoices) == 6
        assert [i["issued_on"] for i in invoices] == sorted((i["issued_on"] for i in invoices), reverse=True)
        for invoice in invoices:
            assert round(sum(line["amount"] for line in invoice["lines"]), 2) == invoice["total"]
        plans = (await ok(billing, "list_plans", {}))["plans"]
        assert 5 <= len(plans) <= 6
        assert any("eu-roaming" in p["features"] for p in plans)


async def test_change_plan_once_per_key_and_crm_copy_lags(connect, data_dir):
    customer = sample_customers(data_dir, 1, crm_plan_stale=False)[0]
    async with connect("billing") as billing, connect("crm") as crm:
        plans = [p["plan_id"] for p in (await ok(billing, "list_plans", {}))["plans"]]
        target = next(p for p in reversed(plans) if p != customer["plan_id"])
        args = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "upgrade-1"}
        first = await ok(billing, "change_plan", args, call_meta(agent="billing", audit_id="aud-77"))
        again = await ok(billing, "change_plan", args, call_meta(agent="billing", audit_id="aud-77"))
        assert first == again
        assert (first["old_plan_id"], first["new_plan_id"]) == (customer["plan_id"], target)
        entitlements = await ok(billing, "get_entitlements", {"msisdn": customer["msisdn"]})
        assert entitlements["plan_id"] == target
        assert entitlements["updated_at"] == first["effective_from"]
        profile = await ok(crm, "get_profile", {"email": customer["email"]})
        assert profile["plan_name"] == customer["plan_name"] != entitlements["plan_name"]
    with closing(sqlite3.connect(data_dir / "systems" / "billing.db")) as db:
        rows = db.execute("SELECT agent, audit_id FROM plan_changes WHERE msisdn = ?", (customer["msisdn"],))
        assert rows.fetchall() == [("billing", "aud-77")]


async def test_change_plan_refusals(connect, data_dir):
    customer = sample_customers(data_dir, 1)[0]
    msisdn = customer["msisdn"]
    async with connect("billing") as billing:
        text = await fails(
            billing,
            "change_plan",
            {"msisdn": msisdn, "plan_id": "NW-NOPE", "idempotency_key": "k1"},
            call_meta(),
        )
        assert "no plan NW-NOPE" in text and "list_plans" in text
        text = await fails(
            billing,
            "change_plan",
            {"msisdn": msisdn, "plan_id": customer["plan_id"], "idempotency_key": "k2"},
            call_meta(),
        )
        assert "already on plan" in text
        text = await fails(billing, "change_plan", {"msisdn": msisdn, "plan_id": "NW-ESS-10", "idempotency_key": "k3"})
        assert "gateway" in text


async def test_unknown_and_malformed_msisdn(connect):
    async with connect("billing") as billing:
        assert "no billing account" in await fails(billing, "get_account", {"msisdn": "+447700800123"})
        assert "msisdn" in await fails(billing, "get_entitlements", {"msisdn": "+44" + "7" * 40})
        assert "Field required" in await fails(billing, "get_account", {})


async def test_contract_quotes_the_exit_fee_from_months_left(connect, data_dir):
    from datetime import date

    from mcp_servers.billing.backend import months_between

    assert months_between(date(2026, 1, 15), date(2026, 1, 15)) == 0
    assert months_between(date(2026, 1, 15), date(2026, 3, 15)) == 2
    assert months_between(date(2026, 1, 15), date(2026, 3, 16)) == 3
    customers = sample_customers(data_dir, 6)
    async with connect("billing") as billing:
        contracts = [await ok(billing, "get_contract", {"msisdn": c["msisdn"]}) for c in customers]
        assert any(c["in_minimum_term"] for c in contracts)
        for contract in contracts:
            assert contract["term_months"] == 24 and contract["notice_days"] == 30 and contract["currency"] == "GBP"
            fee = round(contract["months_remaining"] * contract["exit_fee_per_month"], 2)
            assert contract["early_exit_fee"] == fee
            assert contract["in_minimum_term"] is (contract["months_remaining"] > 0)
        assert "no billing account" in await fails(billing, "get_contract", {"msisdn": "+447700999999"})
