"""The consent registry over real HTTP: read, revoke, grant, idempotency, bad input."""

from __future__ import annotations

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers
from shared.tools import PURPOSES


async def test_seeded_consents_and_a_revoke_then_grant(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_marketing_consent=True)[0]
    cid = customer["customer_id"]
    async with connect("consent") as consent:
        seeded = await ok(consent, "get_consents", {"customer_id": cid})
        assert {"account-servicing", "payments", "marketing"} <= set(seeded["purposes"])
        assert {r["purpose"] for r in seeded["records"]} == set(PURPOSES)
        # The gateway's per-call read: the granted purposes alone, the same list.
        assert await ok(consent, "get_purposes", {"customer_id": cid}) == {
            "customer_id": cid,
            "purposes": seeded["purposes"],
        }
        args = {"customer_id": cid, "purpose": "marketing", "idempotency_key": "rv-1"}
        revoked = await ok(consent, "revoke_consent", args, meta=call_meta("identity"))
        assert revoked == {"customer_id": cid, "purpose": "marketing", "granted": False, "changed": True}
        assert await ok(consent, "revoke_consent", args, meta=call_meta("identity")) == revoked  # same key
        assert "marketing" not in (await ok(consent, "get_consents", {"customer_id": cid}))["purposes"]
        assert "marketing" not in (await ok(consent, "get_purposes", {"customer_id": cid}))["purposes"]
        granted = await ok(consent, "grant_consent", {**args, "idempotency_key": "gr-1"}, meta=call_meta("identity"))
        assert granted["granted"] is True
        assert "marketing" in (await ok(consent, "get_consents", {"customer_id": cid}))["purposes"]


async def test_consent_refuses_bad_input(connect, data_dir):
    cid = sample_customers(data_dir, 1)[0]["customer_id"]
    async with connect("consent") as consent:
        assert "no consent record" in await fails(consent, "get_consents", {"customer_id": "CUST-99999"})
        assert "no consent record" in await fails(consent, "get_purposes", {"customer_id": "CUST-99999"})
        bad_purpose = {"customer_id": cid, "purpose": "telepathy", "idempotency_key": "k"}
        assert "purpose" in await fails(consent, "revoke_consent", bad_purpose, meta=call_meta())
        no_context = {"customer_id": cid, "purpose": "marketing", "idempotency_key": "k"}
        assert "gateway" in await fails(consent, "revoke_consent", no_context)
        too_long = {"customer_id": "C" * 100}
        assert await fails(consent, "get_consents", too_long)


async def test_marketing_consent_is_a_customer_choice(data_dir):
    with_consent = sample_customers(data_dir, 100, has_marketing_consent=True)
    without = sample_customers(data_dir, 100, has_marketing_consent=False)
    assert with_consent and without
