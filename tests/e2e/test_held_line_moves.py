"""A porting code or an eSIM held for a person's check reaches the customer once approved, through the
customer HTTP API, the real gateway and the staff approval API."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing

import pytest

from mcp_servers.dataset import system_db_path
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import four_eyes, staff, wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _network(running: RunningStack, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(running.data_dir, "network"))) as db:
        return db.execute(sql, args).fetchall()


@asynccontextmanager
async def _fraud_hold(running: RunningStack, customer: dict) -> AsyncIterator[None]:
    """Staff put the customer on a fraud hold: moving the number away or onto a new SIM waits for a person."""
    gateway, data_dir, path = running.topology.gateway, running.data_dir, f"/fraud-holds/{customer['customer_id']}"
    held = await staff(gateway, data_dir, "compliance", "POST", path, {"reason": "caller sounded unsure"})
    assert held.status_code == 200, held.text
    try:
        yield
    finally:
        lifted = await four_eyes(gateway, data_dir, "compliance", "admin", "DELETE", path, {})
        assert lifted.status_code == 200, lifted.text


async def _decide(running: RunningStack, approval_id: str, decision: str) -> None:
    path = f"/approvals/{approval_id}/{decision}"
    answered = await staff(running.topology.gateway, running.data_dir, "approver", "POST", path, {})
    assert answered.status_code == 200, answered.text


async def test_a_held_porting_code_is_given_to_the_customer_once_approved(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    async with _fraud_hold(running, customer):
        asked = await chat.verify(customer, "i need my PAC code, i'm switching to another network")
        assert asked["skill"] == "number-porting" and asked["status"] == "input-required", asked
        held = await chat.say("yes")
        assert held["data"]["approval_pending"] is True and "as soon as it's approved" in held["reply"], held
        assert (await chat.state())["waiting_for_approval"] == held["data"]["approval_id"]
        assert not _network(running, "SELECT 1 FROM porting_codes WHERE msisdn = ?", customer["msisdn"])

        await _decide(running, held["data"]["approval_id"], "approve")
        transcript = await wait_for_text(chat.state, "Your porting code is")
    issued = _network(running, "SELECT code FROM porting_codes WHERE msisdn = ?", customer["msisdn"])
    assert len(issued) == 1, issued  # the approved call ran once; the task read its result, it did not run again
    told = transcript[-1]
    assert told["agent"] == "support" and re.search(rf"Your porting code is {issued[0][0]}\b", told["text"]), told
    assert (await chat.state())["waiting_for_approval"] is None


async def test_a_held_esim_is_confirmed_with_its_code_once_approved(chat: Chat, running: RunningStack) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    async with _fraud_hold(running, customer):
        asked = await chat.verify(customer, "can you send me an esim qr code for my new phone")
        assert asked["skill"] == "esim-activation" and asked["status"] == "input-required", asked
        held = await chat.say("yes go ahead")
        assert held["data"]["approval_pending"] is True, held
        await _decide(running, held["data"]["approval_id"], "approve")
        transcript = await wait_for_text(chat.state, "Your eSIM is ready")
    rows = _network(running, "SELECT sim_type FROM sim_activations WHERE msisdn = ?", customer["msisdn"])
    assert rows == [("esim",)], rows  # activated once, by the approved call
    told = transcript[-1]
    assert told["agent"] == "support" and re.search(r"type this code: \S+", told["text"]), told


async def test_a_rejected_porting_code_is_not_issued_and_the_customer_is_told(
    chat: Chat, running: RunningStack
) -> None:
    customer = running.claim_customer(has_recent_sim_swap=False, has_open_ticket=False)
    async with _fraud_hold(running, customer):
        await chat.verify(customer, "can I have my porting code please")
        held = await chat.say("yes")
        assert held["data"]["approval_pending"] is True, held
        await _decide(running, held["data"]["approval_id"], "reject")
        transcript = await wait_for_text(chat.state, "no porting code has been issued")
    assert transcript[-1]["agent"] == "support"
    assert not _network(running, "SELECT 1 FROM porting_codes WHERE msisdn = ?", customer["msisdn"])
