"""Live conversation events for the web chat: Server-Sent Events that tail the transcript.

A page cannot set headers on an ``EventSource``, and the conversation token must never be in a
URL, so the page trades its token for a short-lived signed *stream ticket* bound to one
conversation and opens ``GET /api/conversations/{id}/events?ticket=...&after=<seq>``.

The stream sends every transcript entry after ``after`` (``event: entry``, ``id: <seq>``), then
tails: turns run through a channel wake it at once (``working`` before, ``idle`` after, with the
turn's status), and so does every transcript write by this process's supervisor (an approval
outcome, a human colleague's reply: ``TurnHub.changed``). Entries written by another process (an
orchestrator replica) are found by looking again every ``stream_poll_seconds``. A stream ends by itself
after ``stream_lifetime_seconds`` (``event: bye``) so a server can always shut down; the page
then opens a new one from the last seq it saw.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from orchestrator.channels._http import SupervisorGetter, authorized_conversation
from orchestrator.channels.settings import ChannelSettings
from orchestrator.supervisor import Supervisor, TurnOutcome
from shared.errors import InvalidRequest, Unauthenticated

_QUEUE_SIZE = 64
_HEARTBEAT_SECONDS = 15.0
_ENTRY_FIELDS = {"seq", "at", "role", "text", "channel", "agent", "skill"}
_CHANGED = "changed"  # a wake-up only: the stream re-reads the transcript, the page gets no event


class TurnHub:
    """In-process fan-out of one conversation's live events to its open streams."""

    def __init__(self) -> None:
        self._watchers: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    @contextlib.contextmanager
    def watch(self, conversation_id: str) -> Iterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._watchers[conversation_id].add(queue)
        try:
            yield queue
        finally:
            watchers = self._watchers[conversation_id]
            watchers.discard(queue)
            if not watchers:
                del self._watchers[conversation_id]

    def changed(self, conversation_id: str) -> None:
        """The conversation's transcript was written: its open streams read it now."""
        self.publish(conversation_id, {"type": _CHANGED})

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in self._watchers.get(conversation_id, ()):
            # A watcher that fell this far behind still catches up: entries come from the store by seq.
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(dict(event))  # each stream takes its event apart


async def run_turn(
    supervisor: Supervisor, hub: TurnHub, conversation_id: str, text: str, *, channel: str
) -> TurnOutcome:
    """One customer turn, announced to the conversation's watchers before and after."""
    hub.publish(conversation_id, {"type": "working", "channel": channel})
    try:
        outcome = await supervisor.turn(conversation_id, text, channel=channel)
    except BaseException:
        hub.publish(conversation_id, {"type": "idle", "channel": channel, "status": "failed"})
        raise
    hub.publish(
        conversation_id,
        {
            "type": "idle",
            "channel": channel,
            "status": outcome.status,
            "approval_pending": bool(outcome.data.get("approval_pending")),
        },
    )
    return outcome


def ticket_key(secret: str) -> bytes:
    """The tickets' signing key, derived from a secret every orchestrator process of a deployment
    holds: a ticket one process issued opens a stream on another (they serve one port, or stand
    behind one load balancer)."""
    return hmac.new(secret.encode(), b"switchboard stream tickets", hashlib.sha256).digest()


class StreamTickets:
    """Signed, short-lived permission to open one conversation's event stream.

    Without a ``key`` one is made for this process alone: right for a single orchestrator, since
    a ticket only has to live long enough to open a stream and a page asks for a new one
    whenever it (re)connects.
    """

    def __init__(self, ttl_seconds: int, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._ttl = ttl_seconds

    def issue(self, conversation_id: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self._ttl)
        payload = f"{conversation_id}|{expires}".encode()
        return _b64(payload) + "." + _b64(self._sign(payload))

    def check(self, ticket: str, conversation_id: str, now: float | None = None) -> None:
        payload_b64, _, signature_b64 = ticket.partition(".")
        try:
            payload, signature = _unb64(payload_b64), _unb64(signature_b64)
            ticket_conversation, expires = payload.decode().rsplit("|", 1)
            expired = int(expires) < (now or time.time())
        except ValueError:
            raise _bad_ticket() from None
        if not hmac.compare_digest(signature, self._sign(payload)) or ticket_conversation != conversation_id:
            raise _bad_ticket()
        if expired:
            raise Unauthenticated("the stream ticket has expired", hint="ask for a new one with the conversation token")

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _bad_ticket() -> Unauthenticated:
    return Unauthenticated(
        "the stream ticket is not valid for this conversation",
        hint="POST /api/conversations/{id}/events/ticket with the conversation token",
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _after(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    if not raw.isdigit():
        raise InvalidRequest("'after' must be the last transcript seq the page has (a whole number)")
    return int(raw)


def event_routes(
    supervisor: SupervisorGetter, hub: TurnHub, settings: ChannelSettings, ticket_key: bytes | None = None
) -> list[Route]:
    tickets = StreamTickets(settings.stream_ticket_ttl_seconds, ticket_key)

    async def issue_ticket(request: Request) -> JSONResponse:
        conversation_id = await authorized_conversation(request, supervisor)
        return JSONResponse(
            {"ticket": tickets.issue(conversation_id), "expires_in": settings.stream_ticket_ttl_seconds},
            headers={"Cache-Control": "no-store"},
        )

    async def stream(request: Request) -> StreamingResponse:
        conversation_id = request.path_params["conversation_id"]
        tickets.check(request.query_params.get("ticket", ""), conversation_id)
        after = _after(request)
        store = supervisor().store

        async def events() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + settings.stream_lifetime_seconds
            last_write = loop.time()
            seen = after
            pending: list[dict[str, Any]] = []
            yield "retry: 2000\n\n"
            with hub.watch(conversation_id) as queue:
                while True:
                    for entry in await store.transcript(conversation_id):
                        if entry.seq > seen:
                            seen = entry.seq
                            yield _sse("entry", entry.model_dump(mode="json", include=_ENTRY_FIELDS), entry.seq)
                            last_write = loop.time()
                    for event in pending:
                        if event["type"] != _CHANGED:
                            yield _sse(event.pop("type"), event)
                            last_write = loop.time()
                    pending.clear()
                    now = loop.time()
                    if now >= deadline:
                        yield _sse("bye", {"after": seen})
                        return
                    if now - last_write >= _HEARTBEAT_SECONDS:
                        yield ": keep-alive\n\n"
                        last_write = now
                    try:
                        async with asyncio.timeout(min(settings.stream_poll_seconds, deadline - now)):
                            pending.append(await queue.get())
                    except TimeoutError:
                        continue
                    while not queue.empty():
                        pending.append(queue.get_nowait())

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/api/conversations/{conversation_id}/events/ticket", issue_ticket, methods=["POST"]),
        Route("/api/conversations/{conversation_id}/events", stream, methods=["GET"]),
    ]
