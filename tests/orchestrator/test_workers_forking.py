"""The zygote of ``switchboard up --workers``: children forked from one warm process.

A child here serves no service (a group with no stages), so each test exercises only what the
forking adds: the descriptors a child inherits, its report on its own ready pipe, its process
group away from the parent's (a terminal's Ctrl+C reaches the parent only), stopping on a signal
sent through its pidfd, and stopping by itself once the parent's pipe closes.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.workers.child import ChildSpec
from orchestrator.workers.forking import Forked, Forker
from orchestrator.workers.plan import Group
from shared.settings import Topology


def _spec(data_dir: Path, parent_fd: int, ready_fd: int) -> ChildSpec:
    return ChildSpec(
        group=Group(name="idle", stages=[]),
        sockets={},
        topology=Topology.embedded("127.0.0.1", 1),
        agents=[],
        data_dir=data_dir,
        base_port=0,
        host="127.0.0.1",
        log_level="warning",
        parent_fd=parent_fd,
        ready_fd=ready_fd,
    )


def test_a_spec_moves_to_the_descriptors_the_child_received(tmp_path: Path) -> None:
    spec = _spec(tmp_path, parent_fd=7, ready_fd=8).model_copy(update={"sockets": {"tokens": 5, "gateway": 6}})
    assert spec.inherited() == [5, 6, 7, 8]
    moved = spec.moved_to([11, 12, 13, 14])
    assert (moved.sockets, moved.parent_fd, moved.ready_fd) == ({"tokens": 11, "gateway": 12}, 13, 14)
    with pytest.raises(ValueError, match="expected 4 descriptors"):
        spec.moved_to([11, 12, 13])


async def _ready(fd: int) -> bytes:
    try:
        return await asyncio.to_thread(os.read, fd, 64)
    finally:
        os.close(fd)


class _Parent:
    """What the parent holds for one child: the write end of its parent pipe and the child."""

    def __init__(self, forker: Forker, data_dir: Path) -> None:
        self.forker, self.data_dir = forker, data_dir

    async def fork(self) -> tuple[Forked, int, bytes]:
        watch_read, watch_write = os.pipe()
        ready_read, ready_write = os.pipe()
        try:
            child = await self.forker.fork(_spec(self.data_dir, watch_read, ready_write))
        except BaseException:
            os.close(watch_write)
            os.close(ready_read)
            raise
        finally:
            os.close(watch_read)
            os.close(ready_write)
        return child, watch_write, await _ready(ready_read)


@pytest.fixture
async def parent(tmp_path: Path) -> AsyncIterator[_Parent]:
    forker = Forker()
    forker.start()
    try:
        yield _Parent(forker, tmp_path / "data")
    finally:
        await forker.close()


async def test_a_forked_child_reports_ready_in_another_process_group_and_stops_on_sigterm(parent: _Parent) -> None:
    child, watch, said = await parent.fork()
    try:
        assert said == b"ready\n"
        assert os.getpgid(child.pid) != os.getpgid(0)  # a terminal's Ctrl+C does not reach it
        child.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await child.wait() == 0
        assert child.returncode == 0
        with pytest.raises(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
    finally:
        os.close(watch)


async def test_a_forked_child_stops_by_itself_once_the_parent_pipe_closes(parent: _Parent) -> None:
    child, watch, said = await parent.fork()
    assert said == b"ready\n"
    os.close(watch)  # what the kernel does when the parent dies
    async with asyncio.timeout(30):
        assert await child.wait() == 0


async def test_closing_the_forker_ends_the_zygote_and_no_fork_is_possible_after(parent: _Parent) -> None:
    await parent.forker.close()
    with pytest.raises(Exception, match="not running"):
        await parent.fork()
