"""One running stack shared by the channel and browser tests (each conftest holds a reference)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.launcher import Stack
from tests.e2e.conftest import RunningStack, stack_settings

_shared: dict[str, object] = {"users": 0}


@contextlib.asynccontextmanager
async def shared_stack(factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    if _shared["users"] == 0:
        data_dir: Path = factory.mktemp("switchboard-channels")
        stack = Stack(stack_settings(data_dir), ephemeral_ports=True)
        # Streams look at the store for other processes' writes only every 10 minutes here, so an
        # entry that reaches an open stream within a test's bound came by the supervisor's wake-up.
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SWITCHBOARD_STREAM_POLL_SECONDS", "600")
            topology = await stack.start()
        _shared["running"] = RunningStack(stack, topology, data_dir)
    _shared["users"] = int(_shared["users"]) + 1  # type: ignore[call-overload]
    running = _shared["running"]
    assert isinstance(running, RunningStack)
    try:
        yield running
    finally:
        _shared["users"] = int(_shared["users"]) - 1  # type: ignore[call-overload]
        if _shared["users"] == 0:
            await running.stack.stop()
