"""CRM over real HTTP: profiles, earlier conversations, logging a conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers


async def test_profile_and_recent_network_history(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_recent_network_interaction=True)[0]
    async with connect("crm") as crm:
        profile = await ok(crm, "get_profile", {"email": customer["email"]})
        assert profile["email"] == customer["email"]
        assert profile["plan_name"] == customer["crm_plan_name"]
        history = (await ok(crm, "list_interactions", {"email": customer["email"]}))["interactions"]
        newest = history[0]
        assert newest["topic"] in {"no-signal", "slow-data"}
        started = datetime.fromisoformat(newest["started_at"].replace("Z", "+00:00"))
        assert datetime.now(UTC) - started < timedelta(days=30)
        assert [h["started_at"] for h in history] == sorted((h["started_at"] for h in history), reverse=True)


async def test_no_recent_network_history_for_others(connect, data_dir):
    customer = sample_customers(data_dir, 1, has_recent_network_interaction=False)[0]
    async with connect("crm") as crm:
        history = (await ok(crm, "list_interactions", {"email": customer["email"], "limit": 50}))["interactions"]
        cutoff = datetime.now(UTC) - timedelta(days=30)
        recent = [
            h
            for h in history
            if datetime.fromisoformat(h["started_at"].replace("Z", "+00:00")) > cutoff
            and h["topic"] in {"no-signal", "slow-data"}
        ]
        assert recent == []


async def test_log_interaction_is_idempotent_and_shows_first(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    async with connect("crm") as crm:
        args = {
            "email": email,
            "channel": "voice",
            "topic": "no-signal",
            "summary": "No signal again at home",
            "outcome": "ticket-opened",
            "conversation_id": "conv-9",
            "idempotency_key": "log-1",
        }
        first = await ok(crm, "log_interaction", args, call_meta(agent="support"))
        again = await ok(crm, "log_interaction", args, call_meta(agent="support"))
        assert first == again
        history = (await ok(crm, "list_interactions", {"email": email, "limit": 50}))["interactions"]
        assert history[0]["interaction_id"] == first["interaction_id"]
        assert sum(h["interaction_id"] == first["interaction_id"] for h in history) == 1


async def test_unknown_email_and_missing_call_context(connect):
    async with connect("crm") as crm:
        assert "no CRM customer" in await fails(crm, "get_profile", {"email": "nobody@example.com"})
        text = await fails(
            crm,
            "log_interaction",
            {
                "email": "nobody@example.com",
                "channel": "chat",
                "topic": "t",
                "summary": "s",
                "outcome": "o",
                "conversation_id": "c",
                "idempotency_key": "k",
            },
        )
        assert "through the gateway" in text


async def test_a_write_for_an_unknown_email_changes_nothing_and_keeps_its_key(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    args = {"channel": "chat", "topic": "t", "summary": "s", "outcome": "o", "conversation_id": "c"}
    async with connect("crm") as crm:
        for tool, extra in (
            ("log_interaction", args),
            ("send_service_message", {"channel": "email", "text": "Your engineer is on the way."}),
        ):
            key = {"idempotency_key": f"unknown-{tool}"}
            text = await fails(crm, tool, {"email": "nobody@example.com", **extra, **key}, call_meta(agent="support"))
            assert "no CRM customer with email" in text
            # The refused write claimed nothing: its key still works for a customer who exists.
            assert await ok(crm, tool, {"email": email, **extra, **key}, call_meta(agent="support"))


async def test_bad_channel_and_limit_rejected(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    async with connect("crm") as crm:
        assert "limit" in await fails(crm, "list_interactions", {"email": email, "limit": 0})
        text = await fails(
            crm,
            "log_interaction",
            {
                "email": email,
                "channel": "fax",
                "topic": "t",
                "summary": "s",
                "outcome": "o",
                "conversation_id": "c",
                "idempotency_key": "k",
            },
            call_meta(),
        )
        assert "channel" in text
