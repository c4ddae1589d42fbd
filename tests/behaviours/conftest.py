"""DESIGN.md's behaviours, checked from outside: HTTP APIs and the ``switchboard`` CLI only.

By default a fresh stack is started on loopback for the run. To smoke-test a running
deployment instead (say, after an upgrade)::

    pytest tests/behaviours --base http://127.0.0.1:8700 --gateway http://127.0.0.1:8701 --data-dir ./data

``--data-dir`` is the deployment's data directory: the CLI reads the reference customers, the
one-time codes "sent" and the staff accounts from it, and the carrier's signal secret comes
from it, exactly as an operator would use them. ``--pick N`` chooses other customers, for a
deployment these tests have already run against (a refund is issued once per charge).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

CLI = [sys.executable, "-m", "orchestrator.cli"]
WAIT = 30.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("behaviours", "black-box behaviour suite")
    group.addoption("--base", help="the orchestrator of a running deployment (default: start one)")
    group.addoption("--gateway", help="its governance gateway (with --base)")
    group.addoption("--data-dir", dest="behaviours_data_dir", help="its data directory (with --base)")
    group.addoption("--pick", type=int, default=0, help="skip this many candidate customers per behaviour")


@dataclass
class Deployment:
    base: str
    gateway: str
    data_dir: Path
    pick: int

    async def cli(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            *CLI, *args, "--data-dir", str(self.data_dir), stdout=asyncio.subprocess.PIPE
        )
        async with asyncio.timeout(120):
            out, _ = await proc.communicate()
        assert proc.returncode == 0, f"switchboard {' '.join(args)} failed"
        return out.decode()

    async def customers(self, **flags: object) -> list[dict]:
        """Reference customers with these flags (``switchboard customers``), after ``--pick`` skipped."""
        found = [json.loads(line) for line in (await self.cli("customers", "--limit", "1000")).splitlines() if line]
        matching = [c for c in found if all(c.get(k) == v for k, v in flags.items())]
        assert len(matching) > self.pick, f"no reference customer with {flags} left to pick"
        return matching[self.pick :]

    async def latest_code(self, customer_id: str) -> str:
        out = await self.cli("outbox", "--customer", customer_id, "--limit", "1")
        codes = re.findall(r"\b(\d{6})\b", out)
        assert codes, f"no one-time code was sent to {customer_id}"
        return codes[-1]

    async def staff_token(self, role: str) -> tuple[str, str]:
        for line in (await self.cli("staff")).splitlines():
            name, account_role, token = line.split()
            if account_role == role:
                return name, token
        raise AssertionError(f"no staff account with role {role}")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    base = request.config.getoption("--base", default=None)
    pick = int(request.config.getoption("--pick", default=0) or 0)
    if base:
        gateway = request.config.getoption("--gateway", default=None)
        data_dir = request.config.getoption("behaviours_data_dir", default=None)
        if not gateway or not data_dir:
            raise pytest.UsageError("--base needs --gateway and --data-dir too")
        yield Deployment(base.rstrip("/"), gateway.rstrip("/"), Path(data_dir), pick)
        return
    from orchestrator.launcher import Stack
    from shared.settings import Settings

    data_dir = tmp_path_factory.mktemp("behaviours")
    stack = Stack(Settings(data_dir=data_dir, host="127.0.0.1"), ephemeral_ports=True)
    topology = await stack.start()
    try:
        yield Deployment(topology.orchestrator, topology.gateway, data_dir, pick)
    finally:
        await stack.stop()


class Customer:
    """Someone writing in the web chat, through the same JSON API every front-end uses."""

    def __init__(self, http: httpx.AsyncClient, deployment: Deployment) -> None:
        self.http = http
        self.deployment = deployment
        self.conversation_id = ""
        self.token = ""

    async def start(self) -> Customer:
        response = await self.http.post("/api/conversations", json={"channel": "chat"})
        assert response.status_code == 201, response.text
        self.conversation_id, self.token = response.json()["conversation_id"], response.json()["token"]
        return self

    async def say(self, text: str) -> dict:
        response = await self.http.post(
            f"/api/conversations/{self.conversation_id}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def state(self) -> dict:
        response = await self.http.get(
            f"/api/conversations/{self.conversation_id}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def verify(self, customer: dict, opening: str) -> dict:
        first = await self.say(opening)
        assert first["agent"] == "identity", first
        second = await self.say(f"it's {customer['email']}")
        assert second["agent"] == "identity" and second["status"] == "input-required", second
        return await self.say(await self.deployment.latest_code(customer["customer_id"]))

    async def wait_for(self, fragment: str) -> list[dict]:
        """The transcript once a line contains ``fragment`` (bounded)."""
        async with asyncio.timeout(WAIT):
            while True:
                transcript = (await self.state())["transcript"]
                if any(fragment in entry["text"] for entry in transcript):
                    return transcript
                await asyncio.sleep(0.1)


class Staff:
    """A person at the console: signed in with the form, then the JSON API with the CSRF header."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def sign_in(self, name: str, token: str) -> Staff:
        page = await self.http.get("/console/sign-in")
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert form_token, "the sign-in form carries no csrf_token"
        signed = await self.http.post(
            "/console/sign-in", data={"csrf_token": form_token.group(1), "name": name, "token": token}
        )
        assert signed.status_code == 303, signed.text
        self.csrf = (await self.http.get("/api/console/session")).json()["csrf_token"]
        return self

    async def get(self, path: str, **params: str) -> dict:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})


@pytest_asyncio.fixture(loop_scope="session")
async def open_clients(deployment: Deployment) -> AsyncIterator[list[httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []
    try:
        yield opened
    finally:
        for http in opened:
            await http.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def new_customer(deployment: Deployment, open_clients: list[httpx.AsyncClient]):  # type: ignore[no-untyped-def]
    async def start() -> Customer:
        http = httpx.AsyncClient(base_url=deployment.base, timeout=60)
        open_clients.append(http)
        return await Customer(http, deployment).start()

    return start


@pytest_asyncio.fixture(loop_scope="session")
async def staff(deployment: Deployment, open_clients: list[httpx.AsyncClient]):  # type: ignore[no-untyped-def]
    async def sign_in(role: str) -> Staff:
        name, token = await deployment.staff_token(role)
        http = httpx.AsyncClient(base_url=deployment.base, timeout=60)
        open_clients.append(http)
        return await Staff(http).sign_in(name, token)

    return sign_in
