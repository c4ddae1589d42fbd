"""The staff consoles served by the orchestrator: sign-in, the human-agent console, compliance.

``console_routes(supervisor, config, staff_sessions(config))`` returns the routes to add to the
orchestrator's app:

| route | what |
|---|---|
| ``GET/POST /console/sign-in``, ``POST /console/sign-out`` | staff sign-in (name + token), server-side sessions |
| ``GET /api/console/session`` | who is signed in (name, role, CSRF token, expiry) |
| ``GET /console/compliance``, ``/api/console/compliance/*`` | traces, chain status, explain, export, policy modes |
| ``GET /console/agent``, ``/api/console/agent/*`` | the human-agent console (``orchestrator/consoles/agent.py``) |
| ``/console/static/*`` | the consoles' style and scripts |

Every console route is guarded by :func:`orchestrator.consoles.auth.require_staff` (or
``page_guard`` for pages); the gateway is called as the signed-in person through one shared
:class:`~orchestrator.consoles.staff_gateway.StaffGateway`. A console module exposes
``*_routes(supervisor, config, gateway) -> list[BaseRoute]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from orchestrator.consoles.agent import agent_console_routes
from orchestrator.consoles.auth import (
    STATIC_DIR,
    ConsoleSettings,
    StaffGateway,
    StaffSession,
    StaffSessions,
    page_guard,
    require_staff,
    sign_in_routes,
    with_sessions,
)
from orchestrator.consoles.compliance import compliance_routes
from orchestrator.consoles.sessions import session_records_for
from shared.secrets import StaffCredential

__all__ = [
    "ConsoleSettings",
    "StaffGateway",
    "StaffSession",
    "StaffSessions",
    "console_routes",
    "page_guard",
    "require_staff",
    "staff_sessions",
]


class _Config(Protocol):
    # Read-only: the consoles never set these, so a config holding a dict of staff fits too.
    @property
    def conversations_db(self) -> Path: ...
    @property
    def database_url(self) -> str | None: ...
    @property
    def console_sessions_db(self) -> Path | None: ...
    @property
    def gateway_url(self) -> str | None: ...
    @property
    def staff(self) -> Mapping[str, StaffCredential]: ...


class _StaticFiles(StaticFiles):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_nosniff(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-content-type-options", b"nosniff"))
            await send(message)

        await super().__call__(scope, receive, send_nosniff)


def staff_sessions(config: _Config, settings: ConsoleSettings | None = None) -> StaffSessions:
    """The consoles' session store: in PostgreSQL when ``config.database_url`` names it, else in
    ``config.console_sessions_db`` (SQLite) when set, else in memory.

    The app that serves the consoles closes it on shut-down.
    """
    records = session_records_for(config.database_url, config.console_sessions_db)
    return StaffSessions(config.staff, settings or ConsoleSettings(), records=records)


def console_routes(supervisor: Callable[[], Any], config: _Config, sessions: StaffSessions) -> list[BaseRoute]:
    """Sign-in plus every console, sharing one session store and one gateway client."""
    settings = sessions.settings
    gateway = StaffGateway(config.gateway_url, timeout=settings.gateway_timeout_seconds)
    routes: list[BaseRoute] = [
        *sign_in_routes(sessions),
        *compliance_routes(supervisor, config, gateway),
        *agent_console_routes(supervisor, config, gateway),
        Mount("/console/static", app=_StaticFiles(directory=STATIC_DIR), name="console-static"),
    ]
    return with_sessions(routes, sessions)
