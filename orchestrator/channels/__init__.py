"""Customer channels served by the orchestrator: the web chat and the phone line.

``channel_routes(supervisor, channel_store(config))`` returns the routes to add to the
orchestrator's app:

| route | what |
|---|---|
| ``GET /chat`` | the customer web chat (page, ``/chat/static/*`` script and style) |
| ``POST /api/conversations/{id}/turns`` | a customer turn that watchers see live (Bearer token) |
| ``POST /api/conversations/{id}/events/ticket`` | a short-lived ticket to open the event stream (Bearer token) |
| ``GET /api/conversations/{id}/events?ticket=&after=`` | Server-Sent Events: transcript entries, working / idle |
| ``POST /api/conversations/{id}/phone-link`` | a one-time code that continues the conversation by phone |
| ``POST /voice/twilio[/gather|/result|/hold|/status]`` | the voice webhook (signed forms in, TwiML out) |
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from starlette.routing import BaseRoute

from orchestrator.admission import Admission
from orchestrator.channels._http import SupervisorGetter
from orchestrator.channels.events import TurnHub, event_routes, run_turn
from orchestrator.channels.links import link_routes
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.store import ChannelStore, open_channel_store
from orchestrator.channels.store_pg import PostgresChannelStore
from orchestrator.channels.voice import voice_routes
from orchestrator.channels.web import web_routes
from orchestrator.disclosure import Disclosure

__all__ = ["ChannelSettings", "TurnHub", "channel_routes", "channel_store", "run_turn"]


class _Config(Protocol):
    conversations_db: Path
    database_url: str | None


def channel_store(config: _Config) -> ChannelStore | PostgresChannelStore:
    """The channel store: PostgreSQL when ``config.database_url`` names it, else ``channels.db``
    beside the conversations. The app that serves the channels closes it on shut-down."""
    return open_channel_store(config.database_url, default_sqlite=config.conversations_db.with_name("channels.db"))


def channel_routes(
    supervisor: SupervisorGetter,
    store: ChannelStore | PostgresChannelStore,
    settings: ChannelSettings | None = None,
    hub: TurnHub | None = None,
    admission: Admission | None = None,
    disclosure: Disclosure | None = None,
    ticket_key: bytes | None = None,
) -> list[BaseRoute]:
    """Every channel route, sharing one live-event hub and one channel store (``channel_store``).

    ``settings`` defaults to the ``SWITCHBOARD_*`` environment. Pass the ``hub`` whose ``changed``
    the supervisor calls after each transcript write, so open streams show it at once, and the
    app's ``admission`` so every channel's turns count against the same capacity, and the
    ``disclosure`` the supervisor opens conversations with (``SWITCHBOARD_*`` when None).
    ``ticket_key`` signs the live streams' tickets; give every orchestrator process of a
    deployment the same one (``events.ticket_key``), or leave it None for one process.
    """
    settings = settings or ChannelSettings()
    hub = hub or TurnHub()
    admission = admission or Admission()
    return [
        *web_routes(supervisor, hub, admission, disclosure or Disclosure.from_settings()),
        *event_routes(supervisor, hub, settings, ticket_key),
        *link_routes(supervisor, store, settings),
        *voice_routes(supervisor, store, hub, settings, admission),
    ]
