"""The whole stack (shared with the end-to-end tests' fixtures) plus a CAMARA notification sender."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from orchestrator.signals import SIGNATURE_HEADER, signature
from tests.e2e.conftest import chat, running  # noqa: F401  (fixtures)

WAIT = 10.0
SIM_SWAP = "org.camaraproject.sim-swap-subscriptions.v0.swapped"
ROAMING = "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-status"
DISCONNECTED = "org.camaraproject.device-reachability-status-subscriptions.v0.reachability-disconnected"


def notification(kind: str, msisdn: str, **data: Any) -> dict[str, Any]:
    """A CAMARA subscription notification as the carrier would send it."""
    where = {"phoneNumber": msisdn} if kind == SIM_SWAP else {"device": {"phoneNumber": msisdn}}
    return {
        "id": str(uuid.uuid4()),
        "source": "https://carrier.example/notifications",
        "type": kind,
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "time": datetime.now(UTC).isoformat(),
        "data": {**where, "subscriptionId": "sub-test", **data},
    }


async def send(base_url: str, data_dir: Path, body: dict[str, Any] | bytes, *, sign: bool = True) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    secret = (data_dir / "signal-secret").read_bytes().strip()
    headers = {"content-type": "application/cloudevents+json"}
    if sign:
        headers[SIGNATURE_HEADER] = signature(secret, raw)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return await http.post("/api/signals", content=raw, headers=headers)


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


async def wait_for_rows(db: Path, sql: str, params: tuple[Any, ...] = (), n: int = 1) -> list[tuple[Any, ...]]:
    """Poll (bounded) until the query returns at least ``n`` rows: events are asynchronous by design."""
    async with asyncio.timeout(WAIT):
        while True:
            found = rows(db, sql, params)
            if len(found) >= n:
                return found
            await asyncio.sleep(0.02)
