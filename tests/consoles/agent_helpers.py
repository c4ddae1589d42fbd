"""Helpers shared by the human-agent console tests (API and browser)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from mcp_servers.dataset import sample_customers, system_db_path
from shared.escalation import EscalationPacket, EscalationQueue, QueueItem
from tests.consoles.conftest import StaffClient
from tests.e2e.conftest import Chat


def held_refund_customer(data_dir: Path, index: int, threshold_pence: int = 4000) -> dict[str, Any]:
    """The ``index``-th customer (by id) with a duplicate charge above the approval threshold.

    Unlike a flag filter, the list does not shrink when another test refunds one of them, so
    an index names the same customer for the whole session.
    """
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        accounts = {
            row[0]
            for row in db.execute(
                "SELECT c.account_number FROM charges c WHERE c.amount_pence > ? AND EXISTS ("
                " SELECT 1 FROM charges e WHERE e.invoice_id = c.invoice_id AND e.charged_at < c.charged_at)",
                (threshold_pence,),
            )
        }
    found = [c for c in sample_customers(data_dir, 100_000) if c["account_number"] in accounts]
    assert len(found) > index, f"the dataset has {len(found)} customers with a large duplicate charge"
    return found[index]


async def escalate(chat: Chat, text: str = "I want to talk to a person") -> dict:
    reply = await chat.say(text)
    assert reply["status"] == "escalated" and reply["agent"] == "escalation", reply
    return reply


def queue_item(queue: EscalationQueue, conversation_id: str) -> QueueItem:
    found = [item for item in queue.items if item.conversation_id == conversation_id]
    assert found, f"{conversation_id} is not in the escalation queue"
    return found[0]


async def packet_of(staff: StaffClient, conversation_id: str) -> EscalationPacket:
    response = await staff.get(f"/api/console/escalations/{conversation_id}")
    assert response.status_code == 200, response.text
    return EscalationPacket.model_validate(response.json())


def customer_entries(packet: EscalationPacket) -> int:
    return sum(1 for line in packet.transcript if line.role == "customer")
