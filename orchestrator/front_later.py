"""The orchestrator's A2A front, built once the orchestrator serves its customers.

The front (``orchestrator.a2a_front``) needs a2a-sdk's server, whose task package always loads
SQLAlchemy: about a quarter of the orchestrator's CPU before its first 200, on a machine whose
cores are busy starting the specialists that 200 waits for. The web chat, the API and the
consoles need none of it, so the front is imported and built in the background right after
start-up. A request that reaches the card or ``/a2a/...`` before then waits for it; if building
it fails, they answer 503 and ``/healthz`` does too, so nothing reports ready that is not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    from a2a.server.tasks import TaskStore

    from orchestrator.a2a_front import A2AFront
    from orchestrator.routing.specs import SkillSpec

    TaskStoreParts = tuple[TaskStore, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]
    FrontParts = tuple[Callable[[TaskStore | None], A2AFront], TaskStoreParts | None]
    """How to make the front on a task store (None: in memory), and its durable store with its
    start and stop, or None."""

log = logging.getLogger("switchboard.api")

CARD_PATH = "/.well-known/agent-card.json"
MOUNT = "/a2a"


@dataclass
class _Built:
    front: A2AFront
    card: ASGIApp
    guarded: ASGIApp
    store: TaskStoreParts | None


class LateFront:
    """Two ASGI apps (``card``, mounted at ``CARD_PATH``, and ``guarded``, mounted at ``MOUNT``)
    that wait for ``build`` and then serve the front's routes."""

    def __init__(self) -> None:
        self._built: _Built | None = None
        self._failure: str | None = None
        self._settled = asyncio.Event()

    @property
    def state(self) -> str:
        """``starting``, ``ready`` or ``failed`` (for ``/healthz``)."""
        if self._built is not None:
            return "ready"
        return "failed" if self._failure is not None else "starting"

    async def build(self, load: Callable[[], FrontParts], specs: list[SkillSpec]) -> None:
        """Run ``load`` off the event loop (it imports the front and makes its durable task store,
        if any), open the store, build the front on it and serve it."""
        try:
            make, store = await asyncio.to_thread(load)
            if store is not None:
                await store[1]()
            try:
                front = make(store[0] if store is not None else None)
                front.publish(specs)
            except BaseException:
                if store is not None:
                    await store[2]()
                raise
            self._built = _Built(front, Router(routes=front.card_routes()), front.guarded_app(), store)
        except Exception as exc:
            log.error("the A2A front could not start: %s", exc)
            self._failure = str(exc)
        finally:
            self._settled.set()

    async def aclose(self) -> None:
        built, self._built = self._built, None
        if built is None:
            return
        await built.front.aclose()
        if built.store is not None:
            await built.store[2]()

    @property
    def card(self) -> ASGIApp:
        return _Door(self, guarded=False)

    @property
    def guarded(self) -> ASGIApp:
        return _Door(self, guarded=True)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, *, guarded: bool) -> None:
        await self._settled.wait()
        built = self._built
        if built is None:
            error = ServiceUnavailable("the A2A front is not available", hint="the orchestrator's log says why")
            response = JSONResponse({"error": error.to_dict()}, status_code=error.http_status)
            await response(scope, receive, send)
            return
        await (built.guarded if guarded else built.card)(scope, receive, send)


@dataclass(frozen=True)
class _Door:
    """An ASGI app (not a method, which Starlette's ``Route`` would call as a request handler)."""

    front: LateFront
    guarded: bool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front._serve(scope, receive, send, guarded=self.guarded)
