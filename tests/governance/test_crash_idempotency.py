"""Killing a process at any step of a refund yields exactly one refund once it is back.

The gateway and the payments system (the reference backend, on the seeded dataset) run as
real processes that die with ``os._exit`` at a chosen step (``crash_child.py``). After the
dead process is started again on the same data, the agent retries with the same
idempotency key, as the gateway tells it to; the payments database then holds exactly one
refund for the charge, and the audit chain is intact.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from gateway import verify_audit
from mcp_servers.dataset import ensure_seeded, system_db_path
from shared.authcontext import AuthContextSigner, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope, CustomerKeys
from shared.serving import bind, url_of
from tests.governance.conftest import AGENT_TOKENS, GATEWAY_TOKEN, STAFF_TOKENS
from tests.governance.crash_child import CRASH_EXIT
from tests.governance.e2e_helpers import big_refund_customers, small_refund_customers

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0  # a cold Python start on a busy machine
CALL_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("crash-seed")
    ensure_seeded(data_dir, customers=240)
    return data_dir


class Process:
    """One child process (gateway, or payments + consent) that can be started again after it dies."""

    def __init__(self, config_path: Path, fds: list[int]) -> None:
        self._config, self._fds = config_path, fds
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.governance.crash_child",
            str(self._config),
            cwd=REPO,
            pass_fds=self._fds,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            line = await self.proc.stdout.readline()
        assert line.strip() == b"ready", f"child did not start (exit {await self.proc.wait()})"

    async def died(self) -> int:
        assert self.proc is not None
        async with asyncio.timeout(CALL_TIMEOUT):
            return await self.proc.wait()

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class World:
    data_dir: Path
    audit_db: Path
    trigger: Path
    gateway_url: str
    gateway: Process
    systems: Process
    signer: AuthContextSigner

    def crash_at(self, step: str) -> None:
        self.trigger.write_text(step)

    def disarm(self) -> None:
        self.trigger.write_text("")

    @asynccontextmanager
    async def agent(self) -> AsyncIterator[Client]:
        headers = {"Authorization": f"Bearer {AGENT_TOKENS['payment']}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=CALL_TIMEOUT) as http,
            Client(streamable_http_client(self.gateway_url + "/mcp", http_client=http)) as client,
        ):
            yield client

    async def refund(self, customer: dict[str, Any], args: dict[str, Any]) -> CallToolResult:
        keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
        token = self.signer.issue(keys, method="otp-sms", assurance="AAL2")
        envelope = ContextEnvelope(conversation_id=f"crash-{customer['customer_id']}", auth_context=token)
        async with self.agent() as agent:
            return await agent.call_tool(
                "payments.issue_refund", args, meta={"switchboard/envelope": envelope.model_dump_json()}
            )

    async def staff(self, method: str, path: str) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {STAFF_TOKENS['alice']['token']}"}
        async with httpx2.AsyncClient(base_url=self.gateway_url, timeout=CALL_TIMEOUT) as http:
            return await http.request(method, "/governance" + path, headers=headers)


@pytest.fixture
async def world(seeded: Path, tmp_path: Path) -> AsyncIterator[World]:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded, data_dir)
    identity = generate_private_key_pem()
    sockets = {name: bind() for name in ("gateway", "payments", "consent")}
    urls = {name: url_of(sock) for name, sock in sockets.items()}
    fds = {name: sock.fileno() for name, sock in sockets.items()}
    trigger = tmp_path / "crash-at"
    trigger.write_text("")
    common = {"trigger": str(trigger), "fds": fds}
    systems_config = tmp_path / "systems.json"
    systems_config.write_text(
        json.dumps({**common, "role": "systems", "data_dir": str(data_dir), "gateway_token": GATEWAY_TOKEN})
    )
    gateway_config = tmp_path / "gateway.json"
    gateway_config.write_text(
        json.dumps(
            {
                **common,
                "role": "gateway",
                "audit_db": str(tmp_path / "audit.db"),
                "gateway": {
                    "upstreams": {s: urls[s] + "/mcp" for s in ("payments", "consent")},
                    "gateway_token": GATEWAY_TOKEN,
                    "agent_tokens": AGENT_TOKENS,
                    "identity_public_pem": public_pem_from_private(identity).decode(),
                    "staff_tokens": STAFF_TOKENS,
                    "mcp_timeout_seconds": CALL_TIMEOUT,
                },
            }
        )
    )
    systems = Process(systems_config, [fds["payments"], fds["consent"]])
    gateway = Process(gateway_config, [fds["gateway"]])
    try:
        await systems.start()
        await gateway.start()
        yield World(
            data_dir, tmp_path / "audit.db", trigger, urls["gateway"], gateway, systems, AuthContextSigner(identity)
        )
    finally:
        await gateway.kill()
        await systems.kill()
        for sock in sockets.values():
            sock.close()


def duplicate_charge(data_dir: Path, account_number: str) -> tuple[str, float]:
    """The later charge of a pair that paid one invoice twice, and its amount in pounds."""
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        charge_id, pence = db.execute(
            "SELECT c.charge_id, c.amount_pence FROM charges c WHERE c.account_number = ? AND EXISTS ("
            " SELECT 1 FROM charges e WHERE e.invoice_id = c.invoice_id AND e.charged_at < c.charged_at)",
            (account_number,),
        ).fetchone()
    return charge_id, pence / 100


def refunds_of(data_dir: Path, charge_id: str) -> list[str]:
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        return [r[0] for r in db.execute("SELECT refund_id FROM refunds WHERE charge_id = ?", (charge_id,))]


def refund_args(data_dir: Path, customer: dict[str, Any], key: str) -> dict[str, Any]:
    charge_id, amount = duplicate_charge(data_dir, customer["account_number"])
    return {
        "account_number": customer["account_number"],
        "charge_id": charge_id,
        "amount": amount,
        "reason": "duplicate charge",
        "idempotency_key": key,
    }


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _call_into_a_crash(world: World, customer: dict[str, Any], args: dict[str, Any]) -> None:
    """The agent's call dies with the gateway: the connection drops, no answer comes."""
    call = asyncio.ensure_future(world.refund(customer, args))
    assert await world.gateway.died() == CRASH_EXIT
    with pytest.raises(Exception) as failure:  # whatever the client raises on a dropped connection
        async with asyncio.timeout(CALL_TIMEOUT):
            await call
    assert not isinstance(failure.value, AssertionError | TimeoutError), failure.value


GATEWAY_STEPS = ["gateway:after-intent", "gateway:after-upstream", "gateway:after-outcome"]


@pytest.mark.parametrize("step", GATEWAY_STEPS)
async def test_gateway_killed_mid_refund_then_retried_refunds_once(world: World, step: str) -> None:
    customer = small_refund_customers(world.data_dir)[0]
    args = refund_args(world.data_dir, customer, key=f"crash-{step}")
    world.crash_at(step)
    await _call_into_a_crash(world, customer, args)
    refunded_before_restart = refunds_of(world.data_dir, args["charge_id"])
    assert len(refunded_before_restart) == (0 if step == "gateway:after-intent" else 1)

    world.disarm()
    await world.gateway.start()
    retried = await world.refund(customer, args)
    assert not retried.is_error, text_of(retried)
    assert refunds_of(world.data_dir, args["charge_id"]) == [retried.structured_content["refund_id"]]
    report = verify_audit(world.audit_db)
    assert report.intact, report


async def test_payments_killed_after_commit_then_retried_refunds_once(world: World) -> None:
    customer = small_refund_customers(world.data_dir)[1]
    args = refund_args(world.data_dir, customer, key="crash-payments")
    world.crash_at("payments:after-commit")
    unsure = await world.refund(customer, args)
    assert await world.systems.died() == CRASH_EXIT
    # The gateway cannot know whether it happened, and says so instead of claiming nothing changed.
    assert unsure.is_error and "may or may not have been carried out" in text_of(unsure), text_of(unsure)
    assert len(refunds_of(world.data_dir, args["charge_id"])) == 1

    world.disarm()
    await world.systems.start()
    retried = await world.refund(customer, args)
    assert not retried.is_error, text_of(retried)
    assert refunds_of(world.data_dir, args["charge_id"]) == [retried.structured_content["refund_id"]]
    assert verify_audit(world.audit_db).intact


async def test_gateway_killed_between_approval_and_run_finishes_once_after_restart(world: World) -> None:
    customer = big_refund_customers(world.data_dir)[0]
    args = refund_args(world.data_dir, customer, key="crash-approval")
    held = await world.refund(customer, args)
    assert text_of(held).startswith("APPROVAL_REQUIRED:"), text_of(held)
    approval_id = held.meta["switchboard/refusal"]["approval_id"]

    world.crash_at("gateway:approved-not-run")
    approve = asyncio.ensure_future(world.staff("POST", f"/approvals/{approval_id}/approve"))
    assert await world.gateway.died() == CRASH_EXIT
    with pytest.raises(httpx2.HTTPError):
        await approve
    assert refunds_of(world.data_dir, args["charge_id"]) == []

    world.disarm()
    await world.gateway.start()  # start-up resumes the approved call, with its idempotency key
    assert (await world.staff("GET", f"/approvals/{approval_id}")).json()["status"] == "executed"
    (refund_id,) = refunds_of(world.data_dir, args["charge_id"])
    again = await world.refund(customer, args)  # the agent asks once more: answered, not re-run
    assert not again.is_error and again.structured_content["refund_id"] == refund_id, text_of(again)
    assert refunds_of(world.data_dir, args["charge_id"]) == [refund_id]
    assert verify_audit(world.audit_db).intact


async def test_duplicate_delivery_of_a_refund_refunds_once(world: World) -> None:
    customer = small_refund_customers(world.data_dir)[2]
    args = refund_args(world.data_dir, customer, key="dup-1")
    first, second = await asyncio.gather(world.refund(customer, args), world.refund(customer, args))
    assert not first.is_error and not second.is_error, (text_of(first), text_of(second))
    assert first.structured_content["refund_id"] == second.structured_content["refund_id"]
    assert refunds_of(world.data_dir, args["charge_id"]) == [first.structured_content["refund_id"]]
