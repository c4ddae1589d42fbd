"""The gateway's audit reads on a real audit log: filters, paging, outcomes, CSV safety, tampering."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.audit_store import AuditStore
from gateway.audit_traces import (
    CSV_COLUMNS,
    TraceFilter,
    _csv_row,
    chain_status,
    parse_filter,
    read_traces,
)
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from shared.audit import digest
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.errors import InvalidRequest

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()


async def fill(tmp: Path) -> dict[str, str]:
    """Twelve calls in two conversations, each allowed call followed by its outcome; returns ids by name."""
    store = await AuditStore.open(
        tmp / "audit.db", checkpoints=CheckpointWriter(tmp / CHECKPOINTS_FILE, PRIVATE), checkpoint_every=5
    )
    ids: dict[str, str] = {}
    try:
        for i in range(12):
            agent = "payment" if i % 3 else "billing"
            decision = "deny" if agent == "billing" else "allow"
            args = {"amount": i, "note": '=HYPERLINK("http://x")' if i == 4 else "fine"}
            record = await store.append(
                kind="decision",
                agent=agent,
                tool="payments.issue_refund",
                conversation_id=f"conv-{i % 2}",
                customer_id=f"CUST-{i % 4:05d}",
                arguments=args,
                arguments_digest=digest(args),
                decision=decision,
                policy_ids=["grant.payment.payments-system"] if decision == "allow" else [],
                reason="permitted" if decision == "allow" else "no policy permits billing to refund",
            )
            ids[f"call-{i}"] = record.id
            if decision == "allow":
                await store.append(
                    kind="outcome",
                    agent=agent,
                    tool="payments.issue_refund",
                    conversation_id=f"conv-{i % 2}",
                    customer_id=f"CUST-{i % 4:05d}",
                    arguments=args,
                    arguments_digest=digest(args),
                    decision=decision,
                    policy_ids=record.policy_ids,
                    reason=f"outcome of {record.id}",
                    outcome="ok" if i != 5 else "error: payments unavailable",
                    latency_ms=1.5,
                )
    finally:
        await store.close()
    return ids


async def test_filters_narrow_and_outcomes_join(tmp_path: Path) -> None:
    ids = await fill(tmp_path)
    db = tmp_path / "audit.db"
    everything = read_traces(db, TraceFilter(), before=None, limit=100)
    assert [t.seq for t in everything.traces] == sorted((t.seq for t in everything.traces), reverse=True)
    assert len(everything.traces) == 12 and everything.next_before is None, "outcome records are not traces"
    by_id = {t.id: t for t in everything.traces}
    assert by_id[ids["call-1"]].outcome == "ok" and by_id[ids["call-1"]].latency_ms == 1.5
    assert by_id[ids["call-1"]].outcome_id is not None
    assert by_id[ids["call-5"]].outcome == "error: payments unavailable"
    assert by_id[ids["call-0"]].outcome is None and by_id[ids["call-0"]].decision == "deny"

    denies = read_traces(db, TraceFilter(decision="deny"), before=None, limit=100).traces
    assert {t.agent for t in denies} == {"billing"} and len(denies) == 4
    conv = read_traces(db, TraceFilter(conversation="conv-1", agent="payment"), before=None, limit=100).traces
    assert conv and all(t.conversation_id == "conv-1" and t.agent == "payment" for t in conv)
    customer = read_traces(db, TraceFilter(customer="CUST-00002"), before=None, limit=100).traces
    assert {t.customer_id for t in customer} == {"CUST-00002"} and len(customer) == 3
    assert read_traces(db, TraceFilter(tool="crm.lookup"), before=None, limit=100).traces == []


async def test_time_range_is_inclusive_and_utc(tmp_path: Path) -> None:
    await fill(tmp_path)
    db = tmp_path / "audit.db"
    traces = read_traces(db, TraceFilter(), before=None, limit=100).traces
    oldest, newest = traces[-1], traces[0]
    at = datetime.fromisoformat(oldest.time)
    only_first = read_traces(db, TraceFilter(until=at), before=None, limit=100).traces
    assert [t.id for t in only_first] == [oldest.id]
    from_last = read_traces(db, TraceFilter(since=datetime.fromisoformat(newest.time)), before=None, limit=100).traces
    assert newest.id in [t.id for t in from_last]
    future = datetime.now(UTC) + timedelta(days=1)
    assert read_traces(db, TraceFilter(since=future), before=None, limit=100).traces == []
    # An offset other than UTC means the same instant.
    shifted = parse_filter({"until": at.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"})
    assert read_traces(db, shifted, before=None, limit=100).traces[0].id == oldest.id


async def test_paging_walks_every_trace_once(tmp_path: Path) -> None:
    await fill(tmp_path)
    db = tmp_path / "audit.db"
    seen: list[int] = []
    before = None
    while True:
        page = read_traces(db, TraceFilter(), before=before, limit=5)
        seen += [t.seq for t in page.traces]
        if page.next_before is None:
            break
        before = page.next_before
    assert len(seen) == 12 and len(set(seen)) == 12 and seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"agnet": "payment"}, "unknown query parameter 'agnet'"),
        ({"decision": "maybe"}, "unknown decision 'maybe'"),
        ({"since": "yesterday"}, "'since' is not a date or time"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "'since' is after 'until'"),
        ({"agent": "x" * 300}, "bad filter agent"),
    ],
)
def test_bad_filters_are_named(params: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_filter(params)
    assert fragment in caught.value.message


def test_a_whole_day_covers_the_day() -> None:
    flt = parse_filter({"since": "2026-05-01", "until": "2026-05-01"})
    assert flt.since == datetime(2026, 5, 1, tzinfo=UTC)
    assert flt.until == datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_filter({"since": "2026-05-01T09:30:00+02:00"}).since == datetime(2026, 5, 1, 7, 30, tzinfo=UTC)


async def test_csv_rows_keep_formulas_as_text(tmp_path: Path) -> None:
    ids = await fill(tmp_path)
    db = tmp_path / "audit.db"
    trace = next(t for t in read_traces(db, TraceFilter(), before=None, limit=100).traces if t.id == ids["call-4"])
    out = io.StringIO()
    csv.writer(out).writerows([CSV_COLUMNS, _csv_row(trace)])
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    cells = dict(zip(header, row, strict=True))
    assert cells["policy_ids"] == "grant.payment.payments-system"
    assert '"note": "=HYPERLINK' in cells["arguments"], "the JSON cell starts with { so it is safe as it is"
    evil = trace.model_copy(update={"tool": "=cmd|' /C calc'!A0", "approver": "@SUM(1)"})
    cells = dict(zip(CSV_COLUMNS, _csv_row(evil), strict=True))
    assert cells["tool"].startswith("'=") and cells["approver"] == "'@SUM(1)"


async def test_chain_status_reports_intact_then_the_first_broken_record(tmp_path: Path) -> None:
    await fill(tmp_path)
    db = tmp_path / "audit.db"
    status = chain_status(db, PUBLIC)
    assert status.intact and status.count == 20 and status.head_seq == 20
    assert status.checkpoints_checked and status.checkpoints >= 4 and status.latest_checkpoint["seq"] == 20
    without_key = chain_status(db, None)
    assert without_key.intact and not without_key.checkpoints_checked

    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute('UPDATE audit SET body = replace(body, \'"decision":"\', \'"decision":"x\') WHERE seq = 7')
    broken = chain_status(db, PUBLIC)
    assert not broken.intact and broken.first_broken_seq == 7 and broken.count == 6
    assert broken.first_broken is not None and broken.first_broken["seq"] == 7
    assert broken.reason == "record content changed"
