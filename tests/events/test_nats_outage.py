"""Scale-out bus: with NATS JetStream down, events wait in the outbox and flow when it is back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from mcp_servers.dataset import sample_customers, system_db_path
from orchestrator.launcher import Stack
from shared.serving import bind
from shared.settings import Settings
from tests.events.conftest import envelope_for, tool, wait_for_view
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


async def test_events_wait_in_the_outbox_while_nats_is_down(tmp_path: Path) -> None:
    if not HAVE_NATS:
        pytest.skip("nats-server is not installed (.ci/run installs it)")
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    server = _nats(port, tmp_path / "js")
    await _until_listening(port)
    stack = Stack(
        Settings(data_dir=tmp_path / "data", customers=40, bus_url=f"nats://127.0.0.1:{port}"), ephemeral_ports=True
    )
    topology = await stack.start()
    try:
        assert stack.secrets is not None
        url, secrets = topology.gateway_mcp_url(), stack.secrets
        customer = sample_customers(stack.data_dir, 40)[30]
        env = envelope_for(secrets, customer)

        async def view() -> dict:
            return await tool(
                url, secrets, "support", "crm.get_customer_view", {"customer_id": customer["customer_id"]}, env
            )

        server.terminate()
        server.wait(timeout=10)
        target = "NW-PLUS-60" if customer["plan_id"] != "NW-PLUS-60" else "NW-ESS-10"
        change = {"msisdn": customer["msisdn"], "plan_id": target, "idempotency_key": "nats-down-1"}
        await tool(url, secrets, "billing", "billing.change_plan", change, env)
        billing_db = system_db_path(stack.data_dir, "billing")
        pending = rows(billing_db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
        assert pending[0][0] >= 1, "the change committed and its event waits"
        assert (await view())["plan"] is None

        server = _nats(port, tmp_path / "js")
        await _until_listening(port)
        # The relay retries with backoff (at most 5 s) and the client reconnects by itself.
        seen = await wait_for_view(view, lambda v: v["plan"] is not None, within=30)
        assert seen["plan"]["plan_id"] == target
        assert rows(billing_db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") == [(0,)]
    finally:
        await stack.stop()
        server.terminate()
        server.wait(timeout=10)
