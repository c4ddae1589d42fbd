"""The web chat's server side over real HTTP: the page, turns, stream tickets and live events."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.channels.sse import collect, ticket_for
from tests.e2e.conftest import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def web_turn(chat: Chat, text: str) -> httpx.Response:
    """One customer turn as the web chat sends it (through the channel's live-event hub)."""
    return await chat.http.post(
        f"/api/conversations/{chat.conversation_id}/turns",
        json={"text": text},
        headers={"Authorization": f"Bearer {chat.token}"},
    )


async def test_the_page_is_served_with_a_strict_policy(http: httpx.AsyncClient) -> None:
    page = await http.get("/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-content-type-options"] == "nosniff"
    assert 'role="log"' in page.text and 'aria-live="polite"' in page.text and '<label for="message">' in page.text
    assert "{{greeting}}" not in page.text
    assert "Northwind Mobile&#x27;s automated assistant" in page.text and "ask for a person" in page.text
    script = await http.get("/chat/static/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text, "customer text must only ever be inserted as text"
    assert (await http.get("/chat/static/missing.js")).status_code == 404
    assert (await http.get("/chat/", follow_redirects=False)).headers["location"] == "/chat"


async def test_a_turn_from_the_web_chat_answers_like_the_api(chat: Chat) -> None:
    response = await web_turn(chat, "<script>alert('x')</script> why is my bill so high?")
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["reply"] and outcome["status"] and "route" not in outcome
    transcript = (await chat.state())["transcript"]
    assert transcript[0]["skill"] == "ai-disclosure", "every conversation opens with the notice"
    assert transcript[1]["text"].startswith("<script>"), "stored as the customer wrote it; the page shows it as text"


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, {"text": "hi"}, 401, "unauthenticated"),
        ({"Authorization": "Bearer wrong"}, {"text": "hi"}, 401, "unauthenticated"),
        ({"Authorization": "Basic abc"}, {"text": "hi"}, 401, "unauthenticated"),
        (None, {"text": 42}, 400, "invalid_request"),
        (None, {}, 400, "invalid_request"),
        (None, {"text": "   "}, 400, "invalid_request"),
        (None, {"text": "a" * 2001}, 413, "payload_too_large"),
    ],
)
async def test_bad_turns_are_refused(chat: Chat, headers: dict | None, body: dict, status: int, code: str) -> None:
    sent = headers if headers is not None else {"Authorization": f"Bearer {chat.token}"}
    response = await chat.http.post(f"/api/conversations/{chat.conversation_id}/turns", json=body, headers=sent)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_malformed_and_oversized_bodies_are_refused(chat: Chat) -> None:
    auth = {"Authorization": f"Bearer {chat.token}", "Content-Type": "application/json"}
    url = f"/api/conversations/{chat.conversation_id}/turns"
    assert (await chat.http.post(url, content=b"{not json", headers=auth)).status_code == 400
    assert (await chat.http.post(url, content=b"[1, 2]", headers=auth)).status_code == 400
    assert (await chat.http.post(url, content=b"x" * (65 * 1024), headers=auth)).status_code == 413
    assert (await chat.http.post(url, content=b"\xff\xfe", headers=auth)).status_code == 400
    unknown = await chat.http.post("/api/conversations/conv-nope/turns", json={"text": "hi"}, headers=auth)
    assert unknown.status_code == 401


async def test_stream_tickets_are_needed_and_bound_to_one_conversation(chat: Chat, http: httpx.AsyncClient) -> None:
    no_token = await http.post(f"/api/conversations/{chat.conversation_id}/events/ticket")
    assert no_token.status_code == 401
    other = await Chat(http, chat.running).start()
    others_ticket = await ticket_for(http, other.conversation_id, other.token)
    url = f"/api/conversations/{chat.conversation_id}/events"
    for params in ({}, {"ticket": "junk"}, {"ticket": others_ticket}, {"ticket": chat.token}):
        refused = await http.get(url, params=params)
        assert refused.status_code == 401, params
        assert refused.json()["error"]["code"] == "unauthenticated"
    mine = await ticket_for(http, chat.conversation_id, chat.token)
    bad_after = await http.get(url, params={"ticket": mine, "after": "-1"})
    assert bad_after.status_code == 400


async def test_the_stream_replays_after_a_seq_then_shows_a_turn_live(chat: Chat, http: httpx.AsyncClient) -> None:
    await chat.say("what does my bill say?")
    await chat.say("nobody-here@nowhere.example")  # two turns after the opening notice: entries 2-5
    ticket = await ticket_for(http, chat.conversation_id, chat.token)
    replay = await collect(http, chat.conversation_id, ticket, after=3, until=lambda ev: len(ev) >= 2)
    assert [(name, data["seq"]) for name, data in replay] == [("entry", 4), ("entry", 5)]

    opened = asyncio.Event()
    watch = asyncio.create_task(
        collect(http, chat.conversation_id, ticket, after=5, opened=opened, until=lambda ev: ev[-1][0] == "idle")
    )
    async with asyncio.timeout(10):
        await opened.wait()
    turn = await web_turn(chat, "let me try again")
    assert turn.status_code == 200
    events = await watch
    names = [name for name, _ in events]
    assert names[0] == "working" and names[-1] == "idle", names
    entries = [data for name, data in events if name == "entry"]
    assert [e["seq"] for e in entries] == [6, 7] and entries[0]["role"] == "customer"
    assert entries[0]["text"] == "let me try again" and events[-1][1]["status"] == turn.json()["status"]


async def test_two_pages_on_one_conversation_both_see_a_turn_live(chat: Chat, http: httpx.AsyncClient) -> None:
    # Two tabs of the same chat: each stream gets its own copy of every live event.
    ticket = await ticket_for(http, chat.conversation_id, chat.token)
    opened = [asyncio.Event(), asyncio.Event()]
    watches = [
        asyncio.create_task(
            collect(http, chat.conversation_id, ticket, after=1, opened=event, until=lambda ev: ev[-1][0] == "idle")
        )
        for event in opened
    ]
    async with asyncio.timeout(10):
        for event in opened:
            await event.wait()
    turn = await web_turn(chat, "what does my bill say?")
    assert turn.status_code == 200
    for events in await asyncio.gather(*watches):
        names = [name for name, _ in events]
        assert names[0] == "working" and names[-1] == "idle", names
        assert [data["role"] for name, data in events if name == "entry"] == ["customer", "agent"]


async def test_entries_written_elsewhere_reach_the_stream(chat: Chat, http: httpx.AsyncClient) -> None:
    # A turn through the core API does not pass the channel's hub: the supervisor's write wakes the
    # stream (its store poll is 10 minutes in these tests), as a human's reply or an approval does.
    ticket = await ticket_for(http, chat.conversation_id, chat.token)
    opened = asyncio.Event()
    watch = asyncio.create_task(
        collect(http, chat.conversation_id, ticket, after=1, opened=opened, until=lambda ev: len(ev) >= 2)
    )
    async with asyncio.timeout(10):
        await opened.wait()
    await chat.say("can you explain my bill?")
    events = await watch
    assert [data["role"] for _, data in events] == ["customer", "agent"]


async def test_a_phone_link_needs_the_conversation_token(chat: Chat, http: httpx.AsyncClient) -> None:
    url = f"/api/conversations/{chat.conversation_id}/phone-link"
    assert (await http.post(url)).status_code == 401
    assert (await http.post(url, headers={"Authorization": "Bearer nope"})).status_code == 401
    made = await http.post(url, headers={"Authorization": f"Bearer {chat.token}"})
    assert made.status_code == 201
    body = made.json()
    assert len(body["code"]) == 8 and body["code"].isdigit() and body["expires_in"] > 0
    assert made.headers["cache-control"] == "no-store"
