"""Group commit on the SQLite audit log: appends made at once share transactions, and every
guarantee of a single append holds for each of them."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from gateway import read_audit, verify_audit
from gateway.audit_store import AuditStore, AuditUnavailable, StaleState
from shared.audit import digest

NO_ROW = ("DELETE FROM audit_raw WHERE record_id = ?", ("no such record",))
"""A guarded statement that changes no row: its record must fail alone (``StaleState``)."""


def _fields(i: int) -> dict[str, Any]:
    args = {"i": i}
    return {
        "agent": "payment",
        "tool": "payments.list_charges",
        "conversation_id": f"conv-{i}",
        "arguments": args,
        "arguments_digest": digest(args),
        "decision": "allow",
        "policy_ids": ["grant.x"],
    }


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AuditStore]:
    opened = await AuditStore.open(tmp_path / "audit.db")
    try:
        yield opened
    finally:
        await opened.close()


async def _together(store: AuditStore, calls: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run ``calls`` with the store's thread held until every one of them has queued its record,
    so they are written as one batch whatever the thread's timing; their outcomes, in order."""
    release = threading.Event()
    held = store.worker.run(release.wait)
    tasks = [asyncio.create_task(call) for call in calls]
    # The ready queue is first in, first out: this runs after each task has queued its append.
    asyncio.get_running_loop().call_soon(release.set)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    await held
    return outcomes


def _count_steps(store: AuditStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the steps handed to the store's thread (one transaction each, at most)."""
    steps: list[int] = []
    real = store.worker.run

    def counted(work: Callable[[], Any]) -> Any:
        steps.append(1)
        return real(work)

    monkeypatch.setattr(store.worker, "run", counted)
    return steps


async def test_appends_made_at_once_share_transactions_and_chain_in_call_order(
    store: AuditStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _count_steps(store, monkeypatch)
    records = await _together(store, [store.append(raw_arguments={"i": i}, **_fields(i)) for i in range(50)])
    assert len(steps) == 2  # the hold, then one step (one transaction) for all fifty
    assert [r.seq for r in records] == list(range(1, 51))
    assert [r.conversation_id for r in records] == [f"conv-{i}" for i in range(50)]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    report = verify_audit(tmp_path / "audit.db")
    assert report.intact and report.count == 50
    assert await store.raw_arguments(records[7].id) == {"i": 7}


async def test_a_stale_guard_fails_its_record_alone(store: AuditStore, tmp_path: Path) -> None:
    outcomes = await _together(
        store, [store.append(**_fields(i), also=(NO_ROW,) if i == 10 else ()) for i in range(20)]
    )
    assert isinstance(outcomes[10], StaleState)
    written = [o for o in outcomes if not isinstance(o, BaseException)]
    # The stale record's seq went to the next one: the chain has no gap and no stale record.
    assert [r.seq for r in written] == list(range(1, 20))
    assert "conv-10" not in {r.conversation_id for r in read_audit(tmp_path / "audit.db", limit=100)}
    assert verify_audit(tmp_path / "audit.db").intact


async def test_a_record_whose_budget_ran_out_in_the_queue_is_never_written(store: AuditStore, tmp_path: Path) -> None:
    store.budget = 0.0  # spent before the store's thread can reach any record
    outcomes = await asyncio.gather(*(store.append(**_fields(i)) for i in range(5)), return_exceptions=True)
    assert all(isinstance(o, AuditUnavailable) for o in outcomes), outcomes
    assert read_audit(tmp_path / "audit.db") == []
    store.budget = 5.0
    assert (await store.append(**_fields(9))).seq == 1


async def test_a_failing_store_fails_every_record_of_the_batch(
    store: AuditStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.audit_group as group

    real = group.seal
    sealed: list[int] = []

    def failing_on_the_third(seq: int, prev_hash: str, fields: dict[str, Any]) -> Any:
        sealed.append(seq)
        if len(sealed) == 3:
            raise OSError("disk full")
        return real(seq, prev_hash, fields)

    monkeypatch.setattr(group, "seal", failing_on_the_third)
    outcomes = await _together(store, [store.append(**_fields(i)) for i in range(10)])
    assert all(isinstance(o, OSError) for o in outcomes), outcomes  # nothing half-written is reported
    assert read_audit(tmp_path / "audit.db") == []
    assert verify_audit(tmp_path / "audit.db").count == 0
