"""Reading the audit log for people: trace filters, pages of decisions with their outcomes,
chain status, and streamed CSV/JSON exports. No HTTP here; ``audit_api`` serves it.

Reads use their own short read-only connections (``audit_reader``: SQLite or PostgreSQL; run
them in a worker thread), so a long export never holds up the gateway's appends on the hot path.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, Field, ValidationError

from gateway.audit_check import verify_audit
from gateway.audit_links import customer_clause, linked_seqs
from gateway.audit_reader import RECORD_COLUMNS, AuditLocation, AuditReader, open_reader
from gateway.checkpoints import CHECKPOINTS_FILE
from shared.audit import Decision
from shared.errors import InvalidRequest

DECISIONS: tuple[str, ...] = get_args(Decision)
PAGE_DEFAULT, PAGE_MAX = 50, 500
EXPORT_PAGE = 1000
OUTCOME_WINDOW = 2000
_CALLED = frozenset({"allow", "approved", "would-deny"})
CSV_COLUMNS = (
    "seq",
    "time",
    "id",
    "conversation_id",
    "trace_id",
    "agent",
    "tool",
    "customer_id",
    "decision",
    "policy_ids",
    "reason",
    "approver",
    "outcome",
    "latency_ms",
    "arguments",
    "arguments_digest",
    "hash",
)
FILTER_PARAMS = frozenset({"agent", "decision", "customer", "conversation", "tool", "since", "until"})


class TraceFilter(BaseModel):
    """Which decisions to read; every field narrows (AND). Times are inclusive, in UTC."""

    agent: str | None = Field(default=None, max_length=200)
    decision: Decision | None = None
    customer: str | None = Field(default=None, max_length=200)
    conversation: str | None = Field(default=None, max_length=200)
    tool: str | None = Field(default=None, max_length=200)
    since: datetime | None = None
    until: datetime | None = None

    def where(self, linked: list[int] | None = None) -> tuple[str, list[Any]]:
        """``linked``: the records linked to ``customer`` (made before they were known), also theirs."""
        clauses, params = ["kind = 'decision'"], []
        for column, value in (
            ("agent", self.agent),
            ("decision", self.decision),
            ("conversation_id", self.conversation),
            ("tool", self.tool),
        ):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.customer:
            clause, values = customer_clause(self.customer, linked or [])
            clauses.append(clause)
            params += values
        # Stored times are ``datetime.isoformat()`` in UTC; the same formatting compares correctly as text.
        if self.since is not None:
            clauses.append("time >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            clauses.append("time <= ?")
            params.append(self.until.isoformat())
        return " AND ".join(clauses), params

    def public(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, datetime) else str(v)) for k, v in self if v is not None}


class Trace(BaseModel):
    """One governed tool call: the decision record joined with its outcome record, if any."""

    seq: int
    id: str
    time: str
    conversation_id: str | None
    trace_id: str | None
    agent: str
    tool: str
    customer_id: str | None
    decision: Decision
    policy_ids: list[str]
    reason: str
    approver: str | None
    outcome: str | None
    outcome_id: str | None = None
    latency_ms: float | None
    arguments: dict[str, Any]
    arguments_digest: str
    hash: str


class TracePage(BaseModel):
    traces: list[Trace]
    next_before: int | None
    """Pass as ``before`` for the next (older) page; None at the oldest."""
    filters: dict[str, str]


class ChainStatus(BaseModel):
    intact: bool
    count: int
    reason: str
    first_broken_seq: int | None = None
    first_broken: dict[str, Any] | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    checkpoints: int = 0
    latest_checkpoint: dict[str, Any] | None = None
    checkpoints_checked: bool = False
    verified_at: str


def parse_filter(params: Mapping[str, str], *, allowed: frozenset[str] = FILTER_PARAMS) -> TraceFilter:
    """Query parameters to a filter; a typo or a bad value is a 400 that names it."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0]!r}", hint=f"use any of {', '.join(sorted(allowed))}")
    values: dict[str, Any] = {k: v.strip() for k, v in params.items() if k in FILTER_PARAMS and v.strip()}
    if "decision" in values and values["decision"] not in DECISIONS:
        raise InvalidRequest(f"unknown decision {values['decision']!r}", hint=f"use one of {', '.join(DECISIONS)}")
    for key, end_of_day in (("since", False), ("until", True)):
        if key in values:
            values[key] = _instant(key, values[key], end_of_day)
    if values.get("since") and values.get("until") and values["since"] > values["until"]:
        raise InvalidRequest("'since' is after 'until'", hint="swap them")
    try:
        return TraceFilter.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidRequest(f"bad filter {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _instant(key: str, text: str, end_of_day: bool) -> datetime:
    try:
        if len(text) == 10:  # a whole day: since its start, until its end
            day = date.fromisoformat(text)
            return (
                datetime(day.year, day.month, day.day, 23, 59, 59, 999999, UTC)
                if end_of_day
                else datetime(day.year, day.month, day.day, tzinfo=UTC)
            )
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{key!r} is not a date or time: {text[:40]!r}", hint="use ISO 8601, e.g. 2026-05-01 or 2026-05-01T09:30Z"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def int_param(params: Mapping[str, str], key: str, default: int | None, low: int, high: int) -> int | None:
    text = params.get(key, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidRequest(f"{key!r} must be a whole number from {low} to {high}")
    return int(text)


def _record(row: Any) -> dict[str, Any]:
    return {**json.loads(row[1]), "hash": row[2]}


def read_traces(audit_db: AuditLocation, flt: TraceFilter, *, before: int | None, limit: int) -> TracePage:
    """One page of decisions (newest first) with their outcomes; synchronous and read-only."""
    reader = open_reader(audit_db)
    try:
        where, params = flt.where(linked_seqs(reader, flt.customer) if flt.customer else None)
        if before is not None:
            where += " AND seq < ?"
            params.append(before)
        rows = reader.rows(
            f"SELECT {RECORD_COLUMNS} FROM audit WHERE {where} ORDER BY seq DESC LIMIT ?", (*params, limit + 1)
        )
        decisions = [_record(r) for r in rows]
        more = len(decisions) > limit
        decisions = decisions[:limit]
        outcomes = _outcomes(reader, [d for d in decisions if d["decision"] in _CALLED])
    finally:
        reader.close()
    traces = []
    for d in decisions:
        done = outcomes.get(d["id"])
        traces.append(
            Trace(
                **{k: d[k] for k in Trace.model_fields if k in d and k not in ("outcome", "latency_ms")},
                outcome=done["outcome"] if done else d["outcome"],
                outcome_id=done["id"] if done else None,
                latency_ms=done["latency_ms"] if done else d["latency_ms"],
            )
        )
    return TracePage(traces=traces, next_before=traces[-1].seq if more and traces else None, filters=flt.public())


def _outcomes(reader: AuditReader, called: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The outcome record of each decision that let a call through, by decision id.

    ``reason`` has no index, so the search is a range of ``seq``: an outcome follows its
    decision, nearly always closely. The near range is read first; only an outcome still
    missing (a slow call, or one that never finished) costs a read to the end of the log.
    """
    found: dict[str, dict[str, Any]] = {}
    if not called:
        return found
    low, high = called[-1]["seq"], called[0]["seq"] + OUTCOME_WINDOW
    for upper in (high, None):
        wanted = [f"outcome of {d['id']}" for d in called if d["id"] not in found]
        if not wanted:
            break
        bound = "" if upper is None else " AND seq <= ?"
        marks = ", ".join("?" * len(wanted))
        rows = reader.rows(
            f"SELECT {RECORD_COLUMNS} FROM audit WHERE kind = 'outcome' AND seq > ?{bound} AND reason IN ({marks})",
            (low, *(() if upper is None else (upper,)), *wanted),
        )
        for row in rows:
            record = _record(row)
            found[record["reason"].removeprefix("outcome of ")] = record
    return found


def chain_status(
    audit_db: AuditLocation,
    public_pem: str | None,
    checkpoints_path: Path | None = None,
    witness: Path | None = None,
) -> ChainStatus:
    """Verify the chain (and checkpoints and their witness copy when the key is known) and describe it.

    The checkpoints file defaults to the one beside a SQLite log.
    """
    if checkpoints_path is None:
        if not isinstance(audit_db, Path):
            raise ValueError("a database log needs the path of its checkpoints file")
        checkpoints_path = audit_db.parent / CHECKPOINTS_FILE
    report = verify_audit(audit_db, checkpoints=checkpoints_path, public_pem=public_pem, witness=witness)
    lines = checkpoints_path.read_text(encoding="utf-8").splitlines() if checkpoints_path.exists() else []
    lines = [line for line in lines if line.strip()]
    latest = None
    if lines:
        try:
            last = json.loads(lines[-1])
            latest = {"seq": last.get("seq"), "time": last.get("time")}
        except ValueError:
            latest = None
    reader = open_reader(audit_db)
    try:
        head = reader.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        broken = None
        if report.first_broken_seq is not None:
            row = reader.one(f"SELECT {RECORD_COLUMNS} FROM audit WHERE seq = ?", (report.first_broken_seq,))
            if row is not None:
                broken = _broken(row)
    finally:
        reader.close()
    return ChainStatus(
        intact=report.intact,
        count=report.count,
        reason=report.reason or ("hash chain verified" if report.intact else ""),
        first_broken_seq=report.first_broken_seq,
        first_broken=broken,
        head_seq=head["seq"] if head else None,
        head_hash=head["hash"] if head else None,
        checkpoints=len(lines),
        latest_checkpoint=latest,
        checkpoints_checked=public_pem is not None,
        verified_at=datetime.now(UTC).isoformat(),
    )


def _broken(row: Any) -> dict[str, Any]:
    """What the chain status shows of the first broken record (its body may not even parse)."""
    keys = ("seq", "id", "time", "agent", "tool", "decision", "conversation_id")
    try:
        rec = _record(row)
    except ValueError:
        return {"seq": row[0]}
    return {k: rec.get(k) for k in keys} | {"seq": row[0]}


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_row(trace: Trace) -> list[Any]:
    row = trace.model_dump()
    row["policy_ids"] = " ".join(trace.policy_ids)
    row["arguments"] = json.dumps(trace.arguments, sort_keys=True, ensure_ascii=False)
    return [_csv_cell(row[c]) if row[c] is not None else "" for c in CSV_COLUMNS]


async def _pages(db: AuditLocation, flt: TraceFilter) -> AsyncIterator[list[Trace]]:
    before: int | None = None
    while True:
        page = await asyncio.to_thread(read_traces, db, flt, before=before, limit=EXPORT_PAGE)
        if page.traces:
            yield page.traces
        if page.next_before is None:
            return
        before = page.next_before


async def csv_export(db: AuditLocation, flt: TraceFilter) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    async for traces in _pages(db, flt):
        for trace in traces:
            writer.writerow(_csv_row(trace))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


async def json_export(
    db: AuditLocation, flt: TraceFilter, exported_by: str, exported_at: datetime
) -> AsyncIterator[str]:
    head = {"exported_at": exported_at.isoformat(), "exported_by": exported_by, "filters": flt.public()}
    yield json.dumps(head)[:-1] + ', "traces": ['
    count = 0
    async for traces in _pages(db, flt):
        chunk = ", ".join(t.model_dump_json() for t in traces)
        yield (", " if count else "") + chunk
        count += len(traces)
    yield f'], "count": {count}}}'
