"""Support over real HTTP: knowledge search ranking, tickets and human handoffs."""

from __future__ import annotations

import pytest
from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("I have no signal at home since yesterday", "KB-101"),
        ("my mobile data is really slow", "KB-102"),
        ("how do I set up voicemail", "KB-103"),
        ("I was charged twice for my bill", "KB-110"),
        ("what are the APN settings", "KB-106"),
        ("can I use my phone as a hotspot for my laptop", "KB-107"),
        ("switch to esim", "KB-105"),
    ],
)
async def test_search_knowledge_ranks_the_right_article_first(connect, query, best):
    async with connect("support") as support:
        articles = (await ok(support, "search_knowledge", {"query": query}))["articles"]
        assert articles[0]["article_id"] == best
        assert len(articles) <= 3
        assert [a["score"] for a in articles] == sorted((a["score"] for a in articles), reverse=True)
        assert articles[0]["steps"]


async def test_search_knowledge_odd_queries(connect):
    async with connect("support") as support:
        assert (await ok(support, "search_knowledge", {"query": "the and of"}))["articles"] == []
        # FTS syntax in the query is treated as words, never as a query expression.
        result = await ok(support, "search_knowledge", {"query": 'signal" OR NEAR(* -"'})
        assert result["articles"][0]["article_id"] == "KB-101"
        assert "at most 500" in await fails(support, "search_knowledge", {"query": "x" * 501})


async def test_tickets_open_once_and_list(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    async with connect("support") as support:
        before = (await ok(support, "list_tickets", {"email": email, "status": "open"}))["tickets"]
        args = {
            "email": email,
            "category": "network",
            "summary": "No signal again at home",
            "priority": "high",
            "repeat_of": "INT-0000001",
            "idempotency_key": "tk-1",
        }
        first = await ok(support, "open_ticket", args, call_meta(agent="support"))
        assert first == await ok(support, "open_ticket", args, call_meta(agent="support"))
        assert (first["status"], first["priority"]) == ("open", "high")
        after = (await ok(support, "list_tickets", {"email": email, "status": "open"}))["tickets"]
        assert len(after) == len(before) + 1
        assert after[0]["ticket_id"] == first["ticket_id"] and after[0]["repeat_of"] == "INT-0000001"
        every = (await ok(support, "list_tickets", {"email": email}))["tickets"]
        assert len(every) >= len(after)
        assert "no support customer" in await fails(
            support,
            "open_ticket",
            {**args, "email": "nobody@example.com", "idempotency_key": "tk-2"},
            call_meta(),
        )
        assert "priority" in await fails(support, "open_ticket", {**args, "priority": "critical"}, call_meta())


async def test_request_human_queues_before_and_after_verification(connect, data_dir):
    email = sample_customers(data_dir, 1)[0]["email"]
    base = {
        "reason": "customer asked for a person",
        "summary": "Wants to talk about a bill",
        "priority": "normal",
    }
    async with connect("support") as support:
        anonymous = await ok(
            support,
            "request_human",
            {**base, "conversation_id": "c-1", "idempotency_key": "h-1"},
            call_meta(agent="escalation"),
        )
        known = await ok(
            support,
            "request_human",
            {**base, "conversation_id": "c-2", "email": email, "idempotency_key": "h-2"},
            call_meta(agent="escalation"),
        )
        again = await ok(
            support,
            "request_human",
            {**base, "conversation_id": "c-2", "email": email, "idempotency_key": "h-2"},
            call_meta(agent="escalation"),
        )
        assert (anonymous["queue_position"], known["queue_position"]) == (1, 2)
        assert again == known
        text = await fails(
            support,
            "request_human",
            {**base, "conversation_id": "c-3", "email": "nobody@example.com", "idempotency_key": "h-3"},
            call_meta(),
        )
        assert "no support customer" in text


def _orders_by_status(data_dir, status: str) -> list[tuple[str, str]]:
    import sqlite3
    from contextlib import closing

    from mcp_servers.dataset import system_db_path

    with closing(sqlite3.connect(system_db_path(data_dir, "support"))) as db:
        return db.execute("SELECT email, order_id FROM orders WHERE status = ? ORDER BY order_id", (status,)).fetchall()


async def test_orders_are_listed_and_only_one_being_prepared_can_change(connect, data_dir):
    email, order_id = _orders_by_status(data_dir, "processing")[-1]
    shipped_email, shipped_id = _orders_by_status(data_dir, "dispatched")[-1]
    async with connect("support") as support:
        orders = (await ok(support, "list_orders", {"email": email}))["orders"]
        assert [o["order_id"] for o in orders] == [order_id] and orders[0]["can_change"] is True
        moved = await ok(
            support,
            "change_delivery",
            {"email": email, "order_id": order_id, "delivery_option": "next-day", "idempotency_key": "d-1"},
            call_meta("support"),
        )
        assert moved["delivery_option"] == "next-day" and moved["expected_delivery"] <= orders[0]["expected_delivery"]
        args = {"email": email, "order_id": order_id.lower(), "idempotency_key": "c-1"}
        cancelled = await ok(support, "cancel_order", args, call_meta("support"))
        assert cancelled["status"] == "cancelled" and cancelled["expected_delivery"] is None
        assert await ok(support, "cancel_order", args, call_meta("support")) == cancelled
        shipped = {"email": shipped_email, "order_id": shipped_id, "idempotency_key": "c-2"}
        assert "can no longer be cancelled" in await fails(support, "cancel_order", shipped, call_meta("support"))
        other = {"email": email, "order_id": shipped_id, "idempotency_key": "c-3"}
        assert "no order" in await fails(support, "cancel_order", other, call_meta("support"))
        assert (await ok(support, "list_orders", {"email": shipped_email}))["orders"][0]["tracking_id"]
