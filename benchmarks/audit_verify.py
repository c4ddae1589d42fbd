"""How fast ``audit verify`` walks the hash chain (target: at least 100,000 records per second).

Builds a chain of realistic records (decision + outcome pairs with redacted arguments) in a
temporary SQLite file, stored as the gateway stores them (canonical bodies), then times
``verify_audit`` over it. Usage:
``python benchmarks/audit_verify.py [records]``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

from gateway import verify_audit
from gateway.audit_store import INSERT_RECORD
from shared.audit import GENESIS_HASH, AuditRecord, digest, record_body
from shared.database import DatabaseURL
from shared.migrations import upgrade

TARGET_PER_SECOND = 100_000


def build(path: Path, n: int) -> None:
    args = {"account_number": "ACC-1234567", "charge_id": "CH-00000A1B2C", "amount": 42.0, "reason": "duplicate"}
    prev = GENESIS_HASH
    upgrade(DatabaseURL("sqlite", path=path), "gateway")
    with closing(sqlite3.connect(path)) as db:
        rows = []
        for seq in range(1, n + 1):
            record = AuditRecord(
                seq=seq,
                id=uuid.uuid4().hex,
                time="2026-10-31T09:00:00.000000+00:00",
                kind="decision" if seq % 2 else "outcome",
                conversation_id=f"conv-{seq // 10}",
                trace_id=uuid.uuid4().hex,
                agent="payment",
                tool="payments.issue_refund",
                customer_id="CUST-00001",
                arguments=args,
                arguments_digest=digest(args),
                decision="allow",
                policy_ids=["grant.payment.payments-system"],
                reason="allowed by grant.payment.payments-system",
                outcome=None if seq % 2 else "ok",
                latency_ms=None if seq % 2 else 3.25,
                prev_hash=prev,
            )
            body = record_body(record)
            prev = hashlib.sha256(body.encode()).hexdigest()
            rows.append((seq, body, prev))
        db.executemany(INSERT_RECORD, rows)
        db.commit()


def main(n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "audit.db"
        build(db, n)
        verify_audit(db)  # warm the page cache, as a second run of the command would be
        started = time.perf_counter()
        report = verify_audit(db)
        elapsed = time.perf_counter() - started
    assert report.intact and report.count == n, report
    rate = n / elapsed
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"audit verify: {n} records in {elapsed:.3f} s = {rate:,.0f} records/s")
    print(f"  target >= {TARGET_PER_SECOND:,} records/s   {'ok' if rate >= TARGET_PER_SECOND else 'MISSED'}")
    return 0 if rate >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
