"""Helpers for the governance end-to-end tests: staff calls to the gateway, waiting on a transcript."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from mcp_servers.dataset import sample_customers, system_db_path
from shared.secrets import Secrets

WAIT = 10.0


def big_refund_customers(data_dir: Path, threshold_pence: int = 4000) -> list[dict[str, Any]]:
    """Customers whose duplicate charge is above the approval threshold (in customer-id order)."""
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        accounts = {
            row[0]
            for row in db.execute(
                "SELECT c.account_number FROM charges c WHERE c.amount_pence > ? AND EXISTS ("
                " SELECT 1 FROM charges e WHERE e.invoice_id = c.invoice_id AND e.charged_at < c.charged_at)",
                (threshold_pence,),
            )
        }
    return [c for c in sample_customers(data_dir, 1000, has_duplicate_charge=True) if c["account_number"] in accounts]


def small_refund_customers(data_dir: Path) -> list[dict[str, Any]]:
    """Customers whose duplicate charge is under the approval threshold, as first seen in ``data_dir``.

    Tests sharing a stack each take their own index, so the list is kept as it was before any of
    them refunded: read again, it would shrink by every refund made, and move every index."""
    key = str(Path(data_dir).resolve())
    if key not in _SMALL_REFUNDS:
        big = {c["customer_id"] for c in big_refund_customers(data_dir)}
        found = sample_customers(data_dir, 1000, has_duplicate_charge=True)
        _SMALL_REFUNDS[key] = [c for c in found if c["customer_id"] not in big]
    return [dict(c) for c in _SMALL_REFUNDS[key]]


_SMALL_REFUNDS: dict[str, list[dict[str, Any]]] = {}


async def staff(
    gateway_url: str, data_dir: Path, role: str, method: str, path: str, body: dict | None = None
) -> httpx.Response:
    _, token = Secrets.load_or_create(data_dir).staff_token(role)  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        return await http.request(method, "/governance" + path, json=body, headers={"Authorization": f"Bearer {token}"})


async def four_eyes(
    gateway_url: str, data_dir: Path, requester: str, approver: str, method: str, path: str, body: dict
) -> httpx.Response:
    """Weaken a control as it must be: one role's account asks (30 minutes), another's approves."""
    asked = await staff(gateway_url, data_dir, requester, method, path, {**body, "minutes": 30, "reason": "test"})
    assert asked.status_code == 202, asked.text
    return await staff(gateway_url, data_dir, approver, "POST", f"/changes/{asked.json()['change']['id']}/approve", {})


async def wait_for_text(state_of: Any, fragment: str) -> list[dict]:
    """Poll the conversation (bounded) until an entry contains ``fragment``; returns the transcript."""
    async with asyncio.timeout(WAIT):
        while True:
            transcript = (await state_of())["transcript"]
            if any(fragment in entry["text"] for entry in transcript):
                return transcript
            await asyncio.sleep(0.05)


def refunds_for(data_dir: Path, account_number: str) -> list[tuple]:
    with closing(sqlite3.connect(system_db_path(data_dir, "payments"))) as db:
        return db.execute("SELECT * FROM refunds WHERE account_number = ?", (account_number,)).fetchall()
