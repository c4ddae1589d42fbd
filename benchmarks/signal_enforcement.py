"""Signal-to-enforcement latency: a CAMARA SIM-swap notification until the fraud hold is in force.

Starts the embedded stack; each sample posts one signed SIM-swap notification for a different
customer to ``POST /api/signals`` and reads back when the gateway committed the hold (the
moment its in-memory mirror, read on every tool call, is updated). Latency is from just before
the POST to that commit. Target: p99 <= 50 ms.

Two runs: "cold", numbers the gateway has never seen (its number projection misses and asks the
identity system), and "warm", numbers an earlier event already named (a roaming signal here),
which the projection answers without a remote lookup.

    python benchmarks/signal_enforcement.py [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_servers.dataset import sample_customers
from orchestrator.launcher import Stack
from orchestrator.signals import SIGNATURE_HEADER, signature
from shared.settings import Settings

SIM_SWAP = "org.camaraproject.sim-swap-subscriptions.v0.swapped"
ROAMING = "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-status"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _applied(audit_db: Path, event_id: str) -> bool:
    with closing(sqlite3.connect(f"file:{audit_db}?mode=ro", uri=True)) as db:
        return db.execute("SELECT 1 FROM applied_events WHERE event_id = ?", (event_id,)).fetchone() is not None


def _notification(kind: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "source": "https://carrier.example/notifications",
            "type": kind,
            "specversion": "1.0",
            "time": datetime.now(UTC).isoformat(),
            "data": data,
        }
    ).encode()


def _report(label: str, latencies: list[float]) -> None:
    print(f"signal-to-enforcement, {label} (embedded, in-process bus), n={len(latencies)}")
    print(f"  p50 {statistics.median(latencies):.2f} ms")
    print(f"  p99 {_percentile(latencies, 0.99):.2f} ms   (target <= 50 ms)")
    print(f"  max {max(latencies):.2f} ms")


def _hold_set_at(audit_db: Path, customer_id: str) -> float | None:
    with closing(sqlite3.connect(f"file:{audit_db}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT set_at FROM fraud_holds WHERE customer_id = ?", (customer_id,)).fetchone()
    return row[0] if row else None


async def main(samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Settings(data_dir=Path(tmp), customers=max(240, 2 * samples + 10)), ephemeral_ports=True)
        topology = await stack.start()
        try:
            secret = (stack.data_dir / "signal-secret").read_bytes().strip()
            audit_db = stack.data_dir / "audit.db"
            customers = sample_customers(stack.data_dir, 2 * samples)
            async with httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:

                async def post(body: bytes) -> dict[str, Any]:
                    response = await http.post(
                        "/api/signals", content=body, headers={SIGNATURE_HEADER: signature(secret, body)}
                    )
                    assert response.status_code == 202, response.text
                    answer: dict[str, Any] = response.json()
                    return answer

                async def swap(customer: dict[str, Any]) -> float:
                    body = _notification(SIM_SWAP, {"phoneNumber": customer["msisdn"], "subscriptionId": "bench"})
                    started = time.time()
                    await post(body)
                    async with asyncio.timeout(10):
                        while True:
                            set_at = _hold_set_at(audit_db, customer["customer_id"])
                            if set_at is not None:
                                break
                            await asyncio.sleep(0.05)  # the latency is the stored commit time, not this loop's
                    return (set_at - started) * 1000

                cold = [await swap(c) for c in customers[:samples]]
                warm = []
                for customer in customers[samples:]:
                    # An earlier signal names the number: the projection knows it from then on.
                    roaming = {"device": {"phoneNumber": customer["msisdn"]}, "roaming": False}
                    earlier = await post(_notification(ROAMING, roaming))
                    async with asyncio.timeout(10):
                        while True:
                            if _applied(audit_db, earlier["event_id"]):
                                break
                            await asyncio.sleep(0.01)
                    warm.append(await swap(customer))
            _report("cold numbers", cold)
            _report("warm numbers", warm)
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    options = parser.parse_args()
    asyncio.run(main(options.samples))
