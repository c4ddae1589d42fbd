"""Group commit on PostgreSQL: concurrent appends share transactions and each still lands or fails on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import pairwise
from typing import Any

import asyncpg
import pytest

from gateway.approvals import ApprovalStore
from gateway.audit_reader import read_audit
from gateway.audit_store import AuditUnavailable, StaleState
from gateway.audit_store_pg import PostgresAuditStore
from gateway.state import GovernanceState, kill_scope
from tests.storage.pg import BASE_URL
from tests.storage.test_audit_store import Governance, _append, _decide, _pending

ROOMY = 30.0
"""A budget no loaded machine runs out of, where a test is not about the budget."""


@pytest.fixture
def governance(governance_on_postgres: Governance) -> Governance:
    return governance_on_postgres


async def _pg(governance: Governance) -> PostgresAuditStore:
    store = await governance.open(every=16)
    assert isinstance(store, PostgresAuditStore)
    store.budget = ROOMY
    return store


async def _server(governance: Governance) -> asyncpg.Connection:
    return await asyncpg.connect(BASE_URL, server_settings={"search_path": governance.db.schema or "public"})


async def _transactions(conn: asyncpg.Connection) -> int:
    """How many transactions wrote the chain (each row remembers the one that inserted it)."""
    return int(await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM audit"))


@asynccontextmanager
async def _chain_lock_held(governance: Governance) -> AsyncIterator[asyncpg.Connection]:
    """Another session holds the chain lock, as a replica in the middle of a write would."""
    holder = await _server(governance)
    await holder.execute("SELECT pg_advisory_lock(hashtext($1))", f"switchboard.audit:{governance.db.schema}")
    try:
        yield holder
    finally:
        await holder.execute("SELECT pg_advisory_unlock_all()")
        await holder.close()


async def _waiting_for_chain_lock(holder: asyncpg.Connection, governance: Governance) -> None:
    while not await holder.fetchval(  # noqa: ASYNC110 -- the condition lives in the server: poll it
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' AND application_name = $1",
        f"switchboard/{governance.db.schema}",
    ):
        await asyncio.sleep(0.01)


async def test_concurrent_appends_share_transactions_and_keep_one_chain(governance: Governance) -> None:
    store = await _pg(governance)
    records = await asyncio.gather(*(_append(store, i) for i in range(60)))
    assert [r.seq for r in records] == list(range(1, 61))  # chained in the order they were asked for
    conn = await _server(governance)
    try:
        assert await _transactions(conn) < 60
        assert await conn.fetchval("SELECT count(*) FROM audit_raw") == 60
    finally:
        await conn.close()
    await governance.close(store)
    report = await governance.verify()
    assert report.intact and report.count == 60, report


async def test_two_replicas_batching_at_once_keep_one_gap_free_chain(governance: Governance) -> None:
    one, other = await _pg(governance), await _pg(governance)
    written = await asyncio.gather(
        *(_append(store, n * 100 + i) for i in range(50) for n, store in enumerate((one, other)))
    )
    assert sorted(r.seq for r in written) == list(range(1, 101))
    await governance.close(one)
    await governance.close(other)
    report = await governance.verify()
    assert report.intact and report.count == 100, report


async def test_replicas_taking_turns_chain_on_from_each_others_records(governance: Governance) -> None:
    # Each replica remembers where it left the chain; after the other wrote, that is no longer the tail.
    one, other = await _pg(governance), await _pg(governance)
    written = [await _append(store, i) for i in range(12) for store in ((one, other) if i % 3 else (one, one))]
    assert [r.seq for r in written] == list(range(1, 25))
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(written))
    conn = await _server(governance)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_raw") == 24  # raw arguments of every record, once
    finally:
        await conn.close()
    await governance.close(one)
    await governance.close(other)
    report = await governance.verify()
    assert report.intact and report.count == 24, report


async def test_a_record_written_past_the_writers_tail_is_chained_on_not_forked(governance: Governance) -> None:
    store = await _pg(governance)
    await _append(store, 0)
    # A second gateway process (started later, say) appends behind this one's back.
    late = await _pg(governance)
    behind = await _append(late, 1)
    await governance.close(late)
    after = await _append(store, 2)
    assert (after.seq, after.prev_hash) == (behind.seq + 1, behind.hash)
    await governance.close(store)
    assert (await governance.verify()).intact


async def test_a_stale_state_change_fails_only_its_own_record(governance: Governance) -> None:
    store = await _pg(governance)
    approvals = await ApprovalStore.open(store)
    approval = await _pending(store, approvals)
    decided = await _pending(store, approvals)
    assert await _decide(store, decided, "ana") == "approved"

    async def outcome(work: Any) -> str:
        try:
            return f"seq {(await work).seq}"
        except StaleState:
            return "stale"

    # One batch: plain records, a decision that holds, the same decision again, an already decided one.
    outcomes = await asyncio.gather(
        outcome(_append(store, 1)),
        _decide(store, approval, "ben"),
        _decide(store, approval, "cy"),
        _decide(store, decided, "dee"),
        outcome(_append(store, 2)),
    )
    assert list(outcomes) == ["seq 4", "approved", "stale", "stale", "seq 6"]  # the stale ones took no seq
    conn = await _server(governance)
    try:
        # The plain records around the decisions were inserted by one transaction (guarded ones by its savepoints).
        assert await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM audit WHERE seq IN (4, 6)") == 1
    finally:
        await conn.close()
    got = await (await ApprovalStore.open(store)).get(approval.id)
    assert got is not None and got.decided_by == "ben"
    records = await asyncio.to_thread(read_audit, governance.location, limit=10)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r.approver for r in records if r.decision == "approved"] == ["ana", "ben"]
    await governance.close(store)
    assert (await governance.verify()).intact


async def test_a_caller_whose_budget_runs_out_in_the_queue_is_never_recorded(governance: Governance) -> None:
    store = await _pg(governance)
    async with _chain_lock_held(governance) as holder:
        first = asyncio.create_task(_append(store, 1))  # its batch waits for the chain lock
        await _waiting_for_chain_lock(holder, governance)
        store.budget = 0.05
        with pytest.raises(AuditUnavailable, match="did not answer in time"):
            await _append(store, 2, approver="queued.behind")
        store.budget = ROOMY
    assert (await first).seq == 1
    assert (await _append(store, 3)).seq == 2  # the queued record took no seq and left no trace
    conn = await _server(governance)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit WHERE body LIKE '%queued.behind%'") == 0
        assert await conn.fetchval("SELECT count(*) FROM audit_raw") == 2
    finally:
        await conn.close()
    await governance.close(store)
    assert (await governance.verify()).intact


async def test_a_batch_that_cannot_commit_in_time_leaves_none_of_its_records(governance: Governance) -> None:
    store = await _pg(governance)
    await GovernanceState.load(store)
    store.budget = 0.2
    switch = GovernanceState.switch_statements(kill_scope("all"), "incident", "ana", True)
    async with _chain_lock_held(governance):
        outcomes = await asyncio.gather(
            *(_append(store, i) for i in range(5)), _append(store, 5, also=switch), return_exceptions=True
        )
    assert all(isinstance(o, AuditUnavailable) for o in outcomes), outcomes
    await governance.close(store)  # waits for every connection, so a given-up transaction has ended too
    conn = await _server(governance)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit") == 0
        assert await conn.fetchval("SELECT count(*) FROM audit_raw") == 0
        assert await conn.fetchval("SELECT count(*) FROM kill_switches") == 0
    finally:
        await conn.close()
    store = await _pg(governance)
    assert (await _append(store, 6)).seq == 1
