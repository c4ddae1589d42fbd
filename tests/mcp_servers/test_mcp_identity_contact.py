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
