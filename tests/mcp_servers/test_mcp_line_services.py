"""The line-service tools over real HTTP: roaming, porting codes, fraud locks, SIM and eSIM
activation, outage records, bill credits and device orders."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers, system_db_path

NOBODY = "+447700999999"


def _line_in(data_dir: Path, sql: str) -> str:
    with closing(sqlite3.connect(system_db_path(data_dir, "network"))) as db:
        return str(db.execute(sql).fetchone()[0])


async def test_roaming_is_read_priced_and_switched_once(connect, data_dir):
    msisdn = _line_in(data_dir, "SELECT msisdn FROM lines WHERE roaming = 0 ORDER BY msisdn")
    async with connect("network") as network:
        before = await ok(network, "get_roaming", {"msisdn": msisdn, "country": " spain "})
        assert before["enabled"] is False and before["abroad"] is False
        assert before["rate"] == {"country_name": "Spain", "zone": "eu", "daily_fee": 2.0, "currency": "GBP"}
        assert (await ok(network, "get_roaming", {"msisdn": msisdn, "country": "Atlantis"}))["rate"] is None
        args = {"msisdn": msisdn, "enabled": True, "idempotency_key": "roam-1"}
        assert "call context" in await fails(network, "set_roaming", args)
        on = await ok(network, "set_roaming", args, call_meta("support"))
        assert on["enabled"] is True and on["changed_at"]
        assert await ok(network, "set_roaming", args, call_meta("support")) == on
        assert (await ok(network, "get_roaming", {"msisdn": msisdn}))["enabled"] is True
        assert "enabled" in await fails(network, "set_roaming", {**args, "enabled": "maybe"}, call_meta("support"))
        assert "no mobile line" in await fails(network, "get_roaming", {"msisdn": NOBODY})


async def test_a_porting_code_is_issued_once_and_refused_after_a_sim_change_or_a_fraud_lock(connect, data_dir):
    steady, other = sample_customers(data_dir, 2, has_recent_sim_swap=False)
    swapped = sample_customers(data_dir, 1, has_recent_sim_swap=True)[0]
    async with connect("network") as network:
        first = await ok(
            network, "issue_porting_code", {"msisdn": steady["msisdn"], "idempotency_key": "pac-1"}, call_meta()
        )
        assert len(first["code"]) == 9 and first["code"][:3].isalpha() and first["expires_on"] > first["issued_at"][:10]
        again = await ok(
            network, "issue_porting_code", {"msisdn": steady["msisdn"], "idempotency_key": "pac-2"}, call_meta()
        )
        assert again["code"] == first["code"]  # still valid: the same code, not a second one
        assert "changed in the last 10 days" in await fails(
            network, "issue_porting_code", {"msisdn": swapped["msisdn"], "idempotency_key": "pac-3"}, call_meta()
        )
        lock = {"msisdn": other["msisdn"], "reason": "calls the customer never made", "idempotency_key": "lock-1"}
        locked = await ok(network, "lock_line", lock, call_meta("support"))
        assert locked["locked"] is True and "porting the number away" in locked["blocks"]
        assert (await ok(network, "lock_line", {**lock, "idempotency_key": "lock-2"}, call_meta()))["locked_at"] == (
            locked["locked_at"]
        )
        assert "locked after a fraud report" in await fails(
            network, "issue_porting_code", {"msisdn": other["msisdn"], "idempotency_key": "pac-4"}, call_meta()
        )
        assert "reason" in await fails(
            network, "lock_line", {**lock, "reason": "", "idempotency_key": "x"}, call_meta()
        )


async def test_an_esim_is_activated_with_a_code_and_a_sent_sim_only_when_one_waits(connect, data_dir):
    customer, blocked = sample_customers(data_dir, 2, has_recent_sim_swap=False)
    async with connect("network") as network:
        sim = await ok(network, "get_sim", {"msisdn": customer["msisdn"]})
        assert sim["sim_type"] == "physical" and sim["waiting_sim"] is None and sim["locked"] is False
        physical = {"msisdn": customer["msisdn"], "sim_type": "physical", "idempotency_key": "act-1"}
        assert "no new SIM is waiting" in await fails(network, "activate_sim", physical, call_meta("support"))
        esim = await ok(network, "activate_sim", {**physical, "sim_type": "esim"}, call_meta("support"))
        assert esim["activation_code"].startswith("LPA:1$") and esim["sim_status"] == "active"
        assert (await ok(network, "get_sim", {"msisdn": customer["msisdn"]}))["sim_type"] == "esim"
        swap = await ok(network, "check_sim_swap", {"msisdn": customer["msisdn"], "max_age_hours": 1})
        assert swap["swapped"] is True  # an activation is a SIM change for every later check
        assert "sim_type" in await fails(network, "activate_sim", {**physical, "sim_type": "nano"}, call_meta())

        order = {"msisdn": blocked["msisdn"], "idempotency_key": "sim-1"}
        await ok(network, "block_sim", {**order, "reason": "lost", "idempotency_key": "b-1"}, call_meta("support"))
        sent = await ok(network, "order_replacement_sim", order, call_meta("support"))
        waiting = (await ok(network, "get_sim", {"msisdn": blocked["msisdn"]}))["waiting_sim"]
        assert waiting["order_id"] == sent["order_id"]
        done = await ok(
            network, "activate_sim", {**physical, "msisdn": blocked["msisdn"], "idempotency_key": "act-2"}, call_meta()
        )
        assert done["order_id"] == sent["order_id"] and done["activation_code"] is None
        after = await ok(network, "get_sim", {"msisdn": blocked["msisdn"]})
        assert after["sim_status"] == "active" and after["waiting_sim"] is None


async def test_outages_list_ongoing_and_ended_ones_with_their_length(connect, data_dir):
    msisdn = _line_in(data_dir, "SELECT msisdn FROM lines WHERE area IN ('Glenbrook', 'Northwood', 'Millbridge')")
    ongoing = sample_customers(data_dir, 1, in_outage_area=True)[0]
    async with connect("network") as network:
        ended = (await ok(network, "list_outages", {"msisdn": msisdn}))["outages"]
        assert ended and all(o["status"] == "ended" and o["hours"] > 0 and o["ended_at"] for o in ended)
        assert not any(o["planned"] for o in ended)
        now = (await ok(network, "list_outages", {"msisdn": ongoing["msisdn"]}))["outages"]
        assert now[0]["status"] == "ongoing" and now[0]["ended_at"] is None
        assert "no mobile line" in await fails(network, "list_outages", {"msisdn": NOBODY})


async def test_a_credit_is_applied_once_per_reference(connect, data_dir):
    msisdn = sample_customers(data_dir, 1)[0]["msisdn"]
    args = {"msisdn": msisdn, "amount": 10.0, "reason": "outage", "reference": "OUT-101", "idempotency_key": "c-1"}
    async with connect("billing") as billing:
        credit = await ok(billing, "apply_credit", args, call_meta("support"))
        assert credit["credit_id"].startswith("CRD-") and credit["amount"] == 10.0 and credit["shows_on"]
        assert await ok(billing, "apply_credit", args, call_meta("support")) == credit
        assert "already credited" in await fails(
            billing, "apply_credit", {**args, "idempotency_key": "c-2"}, call_meta()
        )
        assert "two decimals" in await fails(
            billing,
            "apply_credit",
            {**args, "amount": 1.005, "reference": "OUT-9", "idempotency_key": "c-3"},
            call_meta(),
        )
        assert "amount" in await fails(
            billing, "apply_credit", {**args, "amount": -5, "idempotency_key": "c-4"}, call_meta()
        )
        assert "no billing account" in await fails(
            billing, "apply_credit", {**args, "msisdn": NOBODY, "idempotency_key": "c-5"}, call_meta()
        )


async def test_a_device_order_joins_the_order_book(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    async with connect("support") as support:
        listed = await ok(support, "list_devices", {})
        assert {"phone", "sim", "esim"} <= {d["kind"] for d in listed["devices"]}
        assert listed["delivery_options"]["next-day"] == 1
        args = {"email": email, "item_id": "pixel9-128", "delivery_option": "next-day", "idempotency_key": "o-1"}
        placed = await ok(support, "place_order", args, call_meta("support"))
        assert placed["status"] == "processing" and placed["item"] == "Pixel 9 128GB" and placed["can_change"]
        assert await ok(support, "place_order", args, call_meta("support")) == placed
        orders = (await ok(support, "list_orders", {"email": email}))["orders"]
        assert orders[0]["order_id"] == placed["order_id"]
        assert "out of stock" in await fails(
            support, "place_order", {**args, "item_id": "GALAXYS25-256", "idempotency_key": "o-2"}, call_meta()
        )
        assert "no item" in await fails(
            support, "place_order", {**args, "item_id": "TOASTER", "idempotency_key": "o-3"}, call_meta()
        )
        assert "delivery_option" in await fails(
            support, "place_order", {**args, "delivery_option": "drone", "idempotency_key": "o-4"}, call_meta()
        )
