"""Reading a Server-Sent Events stream in tests, with a bound on every wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx


async def ticket_for(http: httpx.AsyncClient, conversation_id: str, token: str) -> str:
    response = await http.post(
        f"/api/conversations/{conversation_id}/events/ticket", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()["ticket"]


async def collect(
    http: httpx.AsyncClient,
    conversation_id: str,
    ticket: str,
    *,
    after: int = 0,
    until: Callable[[list[tuple[str, dict]]], bool],
    opened: asyncio.Event | None = None,
    timeout: float = 10.0,
) -> list[tuple[str, dict]]:
    """Events (name, data) from one stream until ``until(events)`` holds; fails after ``timeout``."""
    events: list[tuple[str, dict]] = []
    async with asyncio.timeout(timeout):
        async with http.stream(
            "GET", f"/api/conversations/{conversation_id}/events", params={"ticket": ticket, "after": after}
        ) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("retry:") and opened is not None:
                    opened.set()
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((name, json.loads(line.removeprefix("data: "))))
                    if until(events):
                        return events
    raise AssertionError(f"the stream ended before the condition held: {events}")
