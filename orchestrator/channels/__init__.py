"""Customer channels served by the orchestrator: the web chat and the phone line.

``channel_routes(supervisor, config)`` returns the routes to add to the orchestrator's app:

| route | what |
|---|---|
| ``GET /chat`` | the customer web chat (page, ``/chat/static/*`` script and style) |
| ``POST /api/conversations/{id}/turns`` | a customer turn that watchers see live (Bearer token) |
| ``POST /api/conversations/{id}/events/ticket`` | a short-lived ticket to open the event stream (Bearer token) |
| ``GET /api/conversations/{id}/events?ticket=&after=`` | Server-Sent Events: transcript entries, working / idle |
| ``POST /api/conversations/{id}/phone-link`` | a one-time code that continues the conversation by phone |
| ``POST /voice/twilio``, ``POST /voice/twilio/gather`` | the voice webhook (form posts in, TwiML out) |
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from starlette.routing import BaseRoute

from orchestrator.channels._http import SupervisorGetter
from orchestrator.channels.events import TurnHub, event_routes, run_turn
from orchestrator.channels.links import link_routes
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.store import ChannelStore
from orchestrator.channels.voice import voice_routes
from orchestrator.channels.web import web_routes

__all__ = ["ChannelSettings", "TurnHub", "channel_routes", "run_turn"]


class _Config(Protocol):
    conversations_db: Path


def channel_routes(
    supervisor: SupervisorGetter, config: _Config, settings: ChannelSettings | None = None
) -> list[BaseRoute]:
    """Every channel route, sharing one live-event hub and one channel store.

    ``config`` is the orchestrator's config; its ``conversations_db`` places the channel store
    beside the conversations. ``settings`` defaults to the ``SWITCHBOARD_*`` environment.
    """
    settings = settings or ChannelSettings()
    store = ChannelStore(config.conversations_db.with_name("channels.db"))
    hub = TurnHub()
    return [
        *web_routes(supervisor, hub),
        *event_routes(supervisor, hub, settings),
        *link_routes(supervisor, store, settings),
        *voice_routes(supervisor, store, hub, settings),
    ]
