"""Scale-out bus: with NATS JetStream down, events wait in the outbox and flow when it is back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from mcp_servers.dataset import sample_customers, system_db_path
from orchestrator.launcher import Stack
from shared.serving import bind
from shared.settings import Settings
from tests.events.conftest import envelope_for, tool, wait_for_view
from tests.services import service_missing
from tests.signals.conftest import rows

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
HAVE_NATS = Path(NATS_SERVER).exists()
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _nats(port: int, store: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _until_listening(port: int) -> None:
    async with asyncio.timeout(10):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return


class PlanChange:
    """A plan change made through the gateway while NATS is away, and the CRM view that should show it."""

    def __init__(self, stack: Stack, url: str, customer_index: int) -> None:
        assert stack.secrets is not None
        self.secrets, self.url = stack.secrets, url
        self.customer = sample_customers(stack.data_dir, 40)[customer_index]
        self.env = envelope_for(self.secrets, self.customer)
        self.billing_db = system_db_path(stack.data_dir, "billing")
        self.target = "NW-PLUS-60" if self.customer["plan_id"] != "NW-PLUS-60" else "NW-ESS-10"

    async def view(self) -> dict:
        args = {"customer_id": self.customer["customer_id"]}
        return await tool(self.url, self.secrets, "support", "crm.get_customer_view", args, self.env)

    def waiting(self) -> int:
        return rows(self.billing_db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]

    async def make(self, key: str) -> None:
        change = {"msisdn": self.customer["msisdn"], "plan_id": self.target, "idempotency_key": key}
        await tool(self.url, self.secrets, "billing", "billing.change_plan", change, self.env)
        assert self.waiting() >= 1, "the change committed and its event waits"
        assert (await self.view())["plan"] is None

    async def seen(self) -> None:
        """The relay retries (backing off at most 5 s) and the bus reconnects by itself."""
        shown = await wait_for_view(self.view, lambda v: v["plan"] is not None, within=30)
        assert shown["plan"]["plan_id"] == self.target
        assert self.waiting() == 0


def _free_port() -> int:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here until a server is started on it
    return port


def _stack(tmp_path: Path, port: int) -> Stack:
    settings = Settings(data_dir=tmp_path / "data", customers=40, bus_url=f"nats://127.0.0.1:{port}")
    return Stack(settings, ephemeral_ports=True)


async def test_events_wait_in_the_outbox_while_nats_is_down(tmp_path: Path) -> None:
    if not HAVE_NATS:
        service_missing("nats-server is not installed (.ci/run installs it)")
    port = _free_port()
    server = _nats(port, tmp_path / "js")
    await _until_listening(port)
    stack = _stack(tmp_path, port)
    topology = await stack.start()
    try:
        change = PlanChange(stack, topology.gateway_mcp_url(), 30)
        server.terminate()
        server.wait(timeout=10)
        await change.make("nats-down-1")

        server = _nats(port, tmp_path / "js")
        await _until_listening(port)
        await change.seen()
    finally:
        await stack.stop()
        server.terminate()
        server.wait(timeout=10)


async def test_the_stack_starts_while_nats_is_down_and_catches_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if not HAVE_NATS:
        service_missing("nats-server is not installed (.ci/run installs it)")
    port = _free_port()
    stack = _stack(tmp_path, port)
    with caplog.at_level(logging.WARNING, logger="switchboard.bus"):
        topology = await stack.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        assert any("not reachable" in r.getMessage() for r in caplog.records), caplog.text
        change = PlanChange(stack, topology.gateway_mcp_url(), 31)
        await change.make("nats-late-1")

        server = _nats(port, tmp_path / "js")
        await _until_listening(port)
        # The bus binds the subscribers asked for at start-up once it connects.
        await change.seen()
    finally:
        await stack.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
