"""How fast concurrent governed calls get their audit records committed on PostgreSQL.

Every governed call appends a record to the hash chain within ``WRITE_BUDGET_SECONDS`` or
fails closed. ``C`` appenders each append one record after another (``--records`` in all per
level) through one ``PostgresAuditStore`` with its default pool (``SWITCHBOARD_DB_POOL_SIZE``),
at 1, 10 and 50 appenders; first with one transaction per record (the floor: how appends were
written before group commit), then with group commit (``gateway.audit_batch``). Printed per
level: committed appends per second, p50 and p99 latency, appends refused as
``AuditUnavailable`` (the budget ran out), and CPU seconds of this process and of the server
backends serving the store. Wall-clock figures depend on the machine's load (printed).
Usage: ``python benchmarks/audit_append.py [--records 600] [--postgres postgresql://...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from gateway.audit_check import verify_audit
from gateway.audit_store import AuditUnavailable
from gateway.audit_store_pg import PostgresAuditStore
from shared.audit import digest
from shared.database import DatabaseURL

LEVELS = (1, 10, 50)
_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the server processes with these pids have used."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the server runs elsewhere: its CPU is not ours to read
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


async def _level(db: DatabaseURL, appenders: int, records: int, group_commit: bool) -> dict[str, Any]:
    store = await PostgresAuditStore.open(db, group_commit=group_commit)
    latencies: list[float] = []
    refused = 0

    async def appender(n: int) -> None:
        nonlocal refused
        for i in range(records // appenders):
            args = {"account_number": "ACC-1234567", "amount": 42.0, "i": i, "appender": n}
            started = time.perf_counter()
            try:
                await store.append(
                    agent="payment", tool="payments.issue_refund", conversation_id=f"conv-{n}",
                    customer_id="CUST-00001", arguments=args, arguments_digest=digest(args), decision="allow",
                    policy_ids=["grant.payment"], latency_ms=0.5, raw_arguments=args,
                )  # fmt: skip
            except AuditUnavailable:
                refused += 1
                continue
            latencies.append(time.perf_counter() - started)

    await store.fetch("SELECT 1")  # the pool's first connection is open before timing starts
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(appender(n) for n in range(appenders)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pids = [row[0] for row in await store.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = ?",
                                                (f"switchboard/{db.schema}",))]  # fmt: skip
    server = _backend_cpu(pids)
    await store.close()
    latencies.sort()
    quantile = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "per_second": len(latencies) / wall,
        "p50": quantile[49] * 1000 if latencies else float("nan"),
        "p99": quantile[98] * 1000 if latencies else float("nan"),
        "refused": refused,
        "cpu": cpu,
        "server_cpu": server,
    }


async def main(base: str, records: int) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    print(f"{records} appends per level; pool size {os.environ.get('SWITCHBOARD_DB_POOL_SIZE', 'default')}\n")
    print(f"{'mode':<26}{'appenders':>10}{'appends/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'refused':>9}"
          f"{'cpu s':>8}{'server cpu s':>14}")  # fmt: skip
    for group_commit in (False, True):
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        db = DatabaseURL.parse(f"{base}?schema={schema}", default_sqlite=Path("unused.db"))
        try:
            for appenders in LEVELS:
                got = await _level(db, appenders, records, group_commit)
                mode = "group commit" if group_commit else "one transaction per append"
                print(f"{mode:<26}{appenders:>10}{got['per_second']:>11.0f}{got['p50']:>9.1f}{got['p99']:>9.1f}"
                      f"{got['refused']:>9}{got['cpu']:>8.2f}{got['server_cpu']:>14.2f}", flush=True)  # fmt: skip
            report = await asyncio.to_thread(verify_audit, db)
            assert report.intact, report
        finally:
            conn = await asyncpg.connect(base)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600, help="appends per level")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database the benchmark may create a schema in (dropped afterwards)",
    )
    parsed = parser.parse_args()
    asyncio.run(main(parsed.postgres, parsed.records))
