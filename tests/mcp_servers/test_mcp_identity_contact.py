"""Identity owns contact details: a change is committed with its event, once per key, never onto another account."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers, system_db_path


def _events(data_dir, customer_id: str) -> list[str]:
    with closing(sqlite3.connect(system_db_path(data_dir, "identity"))) as db:
        rows = db.execute("SELECT CAST(body AS TEXT) FROM outbox").fetchall()
    return [body for (body,) in rows if customer_id in body and "contact-changed" in body]


async def test_an_address_change_is_one_change_one_event_and_never_someone_elses(connect, data_dir):
    first, second = sample_customers(data_dir, 2)
    cid = first["customer_id"]
    change = {"customer_id": cid, "email": "  New.Address@Example.com ", "idempotency_key": "contact-1"}
    async with connect("identity") as identity:
        changed = await ok(identity, "update_contact_details", change, call_meta("identity"))
        assert (changed["email"], changed["msisdn"], changed["changed"]) == (
            "new.address@example.com",
            first["msisdn"],
            True,
        )
        again = await ok(identity, "update_contact_details", change, call_meta("identity"))
        assert again == changed  # the same request, delivered twice, acts once
        now = await ok(identity, "get_contact_details", {"customer_id": cid})
        assert now["email"] == "new.address@example.com"
        taken = {"customer_id": cid, "email": second["email"], "idempotency_key": "contact-2"}
        assert "already on another account" in await fails(identity, "update_contact_details", taken, call_meta())
        assert "not an email address" in await fails(
            identity, "update_contact_details", {**taken, "email": "nobody", "idempotency_key": "c-3"}, call_meta()
        )
        assert (await ok(identity, "resolve_customer", {"hint": "new.address@example.com"}))["customer_id"] == cid
    [event] = _events(data_dir, cid)
    assert first["email"] in event  # previous_email: copies keyed by the old address can follow


async def test_a_postal_address_is_tidied_checked_and_changed_once_with_its_event(connect, data_dir):
    customer = sample_customers(data_dir, 3)[2]
    cid = customer["customer_id"]
    move = {
        "customer_id": cid,
        "line1": " 4  Rosemary   Lane ",
        "line2": "Flat 2",
        "town": "Glenbrook",
        "postcode": "gb27xq",
        "idempotency_key": "addr-1",
    }
    async with connect("identity") as identity:
        before = (await ok(identity, "get_contact_details", {"customer_id": cid}))["address"]
        assert before["town"] and before["postcode"]  # the dataset gives everyone an address
        changed = await ok(identity, "update_postal_address", move, call_meta("identity"))
        assert changed["changed"] is True and changed["email"] == customer["email"]
        assert changed["address"] == {
            "line1": "4 Rosemary Lane",
            "line2": "Flat 2",
            "town": "Glenbrook",
            "postcode": "GB2 7XQ",
        }
        assert await ok(identity, "update_postal_address", move, call_meta("identity")) == changed
        same = await ok(identity, "update_postal_address", {**move, "idempotency_key": "addr-2"}, call_meta())
        assert same["changed"] is False  # already the address on record: nothing to tell anyone
        assert (await ok(identity, "get_contact_details", {"customer_id": cid}))["address"] == changed["address"]

        async def refused(**bad: str) -> str:
            return await fails(identity, "update_postal_address", {**move, **bad, "idempotency_key": "x"}, call_meta())

        assert "not a UK postcode" in await refused(postcode="12345")
        assert "not a UK postcode" in await refused(postcode="GB2 7X")
        assert "house number or name and the street" in await refused(line1="42")
        assert "town or city" in await refused(town="123")
        assert "call context" in await fails(identity, "update_postal_address", {**move, "idempotency_key": "y"})
    [event] = _events(data_dir, cid)
    assert "Rosemary Lane" in event and "GB2 7XQ" in event
