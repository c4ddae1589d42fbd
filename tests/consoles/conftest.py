"""Console test helpers: sign in exactly as a browser does (form post, cookie, CSRF header).

``staff_client(role)`` gives a signed-in :class:`StaffClient` on the shared running stack;
``StaffClient`` also works against any app (an ``httpx.AsyncClient`` with an ASGI transport).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from orchestrator.launcher import Stack
from shared.secrets import Secrets
from tests.channels._stack import shared_stack
from tests.e2e.conftest import Chat, RunningStack, stack_settings

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient:
    """A person at the console: a cookie jar, the session's CSRF token, and helpers."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""
        self.name = ""
        self.role = ""

    async def sign_in_form(self, next_path: str = "") -> str:
        """Open the sign-in page; returns the form's CSRF token."""
        page = await self.http.get("/console/sign-in", params={"next": next_path} if next_path else None)
        assert page.status_code == 200, page.text
        found = _CSRF_FIELD.search(page.text)
        assert found, "the sign-in form carries no csrf_token"
        return unescape(found.group(1))

    async def sign_in(self, name: str, token: str, *, next_path: str = "") -> httpx.Response:
        """Fill in and post the form as a browser would; on success learn the session's CSRF token."""
        form_token = await self.sign_in_form(next_path)
        response = await self.http.post(
            "/console/sign-in", data={"csrf_token": form_token, "name": name, "token": token, "next": next_path}
        )
        if response.status_code == 303:
            session = await self.http.get("/api/console/session")
            assert session.status_code == 200, session.text
            body = session.json()
            self.csrf, self.name, self.role = body["csrf_token"], body["name"], body["role"]
        return response

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.http.get(path, **kwargs)  # type: ignore[arg-type]

    async def post(self, path: str, *, csrf: str | None = None, **kwargs: object) -> httpx.Response:
        """POST with the session's CSRF header (``csrf=""`` leaves it out)."""
        token = self.csrf if csrf is None else csrf
        headers = {"X-CSRF-Token": token} if token else {}
        return await self.http.post(path, headers=headers, **kwargs)  # type: ignore[arg-type]

    async def sign_out(self) -> httpx.Response:
        return await self.http.post("/console/sign-out", data={"csrf_token": self.csrf})


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    async with shared_stack(tmp_path_factory) as stack:
        yield stack


StaffFactory = Callable[[str], Awaitable[StaffClient]]


@pytest_asyncio.fixture(loop_scope="session")
async def staff_client(running: RunningStack) -> AsyncIterator[StaffFactory]:
    """``await staff_client("compliance")``: a fresh browser signed in with that role's account."""
    opened: list[httpx.AsyncClient] = []

    async def sign_in(role: str) -> StaffClient:
        assert running.stack.secrets is not None
        name, token = running.stack.secrets.staff_token(role)  # type: ignore[arg-type]
        http = httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30)
        opened.append(http)
        client = StaffClient(http)
        response = await client.sign_in(name, token)
        assert response.status_code == 303, response.text
        return client

    try:
        yield sign_in
    finally:
        for http in opened:
            await http.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def chat(running: RunningStack) -> AsyncIterator[Chat]:
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        yield await Chat(http, running).start()


TEAM: dict[str, str] = {"ben": "agent", "cleo": "agent", "sam": "supervisor"}
"""Extra staff accounts on the team stack: several people working one queue."""


@dataclass
class Team:
    running: RunningStack
    opened: list[httpx.AsyncClient]
    signed_in: list[StaffClient] = field(default_factory=list)

    async def sign_in(self, name: str) -> StaffClient:
        """A fresh browser signed in as ``name`` (a ``TEAM`` account or a default one like ``approver``)."""
        assert self.running.stack.secrets is not None
        cred = self.running.stack.secrets.staff_tokens[name]
        http = httpx.AsyncClient(base_url=self.running.topology.orchestrator, timeout=30)
        self.opened.append(http)
        client = StaffClient(http)
        response = await client.sign_in(name, cred.token)
        assert response.status_code == 303, response.text
        self.signed_in.append(client)
        return client

    async def customer(self) -> Chat:
        http = httpx.AsyncClient(base_url=self.running.topology.orchestrator, timeout=30)
        self.opened.append(http)
        return await Chat(http, self.running).start()


def team_data_dir(factory: pytest.TempPathFactory) -> Path:
    data_dir = factory.mktemp("switchboard-team")
    for name, role in TEAM.items():
        Secrets.add_staff(data_dir, name, role)  # type: ignore[arg-type]
    return data_dir


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def team_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    """A stack of its own whose staff includes ``TEAM`` (leases and the queue are shared state)."""
    data_dir = team_data_dir(tmp_path_factory)
    stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
    topology = await stack.start()
    try:
        yield RunningStack(stack, topology, data_dir)
    finally:
        await stack.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def team(team_stack: RunningStack) -> AsyncIterator[Team]:
    opened: list[httpx.AsyncClient] = []
    team = Team(team_stack, opened)
    try:
        yield team
    finally:
        # A lease lasts while its holder has any live session: each test signs its people out.
        for client in team.signed_in:
            await client.sign_out()
        for http in opened:
            await http.aclose()
