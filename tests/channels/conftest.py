"""Fixtures for the channel tests: the whole stack on loopback (shared with tests/browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.channels._stack import shared_stack
from tests.e2e.conftest import Chat, RunningStack


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    async with shared_stack(tmp_path_factory) as stack:
        yield stack


@pytest_asyncio.fixture(loop_scope="session")
async def http(running: RunningStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def chat(http: httpx.AsyncClient, running: RunningStack) -> Chat:
    return await Chat(http, running).start()
