"""Fixtures: a small seeded dataset per test and real MCP servers on loopback sockets."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_testkit import AUTHORITY, CUSTOMERS, mcp_client, serving

from mcp_servers import build_app
from mcp_servers.dataset import ensure_seeded
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.service_auth import audiences


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeded")
    ensure_seeded(root, customers=CUSTOMERS, seed=7)
    return root


@pytest.fixture
def data_dir(seeded_template: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded dataset, so writes in one test never leak into another."""
    shutil.copytree(seeded_template / "systems", tmp_path / "systems")
    return tmp_path


@pytest.fixture(scope="session")
def identity_keys() -> tuple[str, str]:
    private = generate_private_key_pem()
    return private.decode(), public_pem_from_private(private).decode()


StartSystem = Callable[..., Awaitable[str]]


@pytest.fixture
async def start(data_dir: Path, identity_keys: tuple[str, str]) -> AsyncIterator[StartSystem]:
    """``await start("crm")`` serves that system over real HTTP and returns its base URL."""
    async with contextlib.AsyncExitStack() as stack:

        async def _start(system: str, **kwargs: Any) -> str:
            app = build_app(
                system,
                data_dir=data_dir,
                auth=AUTHORITY.auth(audiences.system(system)),
                identity_private_pem=identity_keys[0],
                **kwargs,
            )
            return await stack.enter_async_context(serving(app))

        yield _start


@pytest.fixture
def connect(start: StartSystem) -> Callable[[str], contextlib.AbstractAsyncContextManager[Client]]:
    """``async with connect("crm") as crm:`` serves the system and opens an MCP client to it.

    The client is opened inside the test, not in a fixture: its anyio task group must be
    entered and exited by the same task.
    """

    @contextlib.asynccontextmanager
    async def _connect(system: str) -> AsyncIterator[Client]:
        async with mcp_client(await start(system)) as client:
            yield client

    return _connect
