"""The governance store on each backend: the audit chain, approvals and switches, replicas, dropped connections."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.approvals import PENDING, Approval, ApprovalStore, insert_statement, new_id, transition
from gateway.audit_check import verify_audit
from gateway.audit_reader import read_audit
from gateway.audit_store import AuditStore, StaleState, open_audit_store
from gateway.audit_store_pg import PostgresAuditStore
from gateway.audit_traces import TraceFilter, chain_status, read_traces
from gateway.checkpoints import CHECKPOINTS_FILE, CheckpointWriter
from gateway.explain import explain
from gateway.state import GovernanceState, kill_scope
from shared.audit import digest
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.database import DatabaseURL
from shared.errors import ServiceUnavailable
from tests.storage.pg import BASE_URL, private_schema, terminate_backends

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()
Store = AuditStore | PostgresAuditStore


class Governance:
    """Governance stores opened on one database, as gateway replicas would open them."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.db = DatabaseURL.parse(url, default_sqlite=tmp / "unused.db")
        self.location: Any = self.db if self.db.is_postgres else self.db.path
        self.checkpoints = tmp / CHECKPOINTS_FILE
        self._open: list[Store] = []

    async def open(self, every: int = 4) -> Store:
        writer = CheckpointWriter(self.checkpoints, PRIVATE)
        store = await open_audit_store(self.url, default_sqlite=self.tmp / "unused.db", checkpoints=writer,
                                       checkpoint_every=every)  # fmt: skip
        self._open.append(store)
        return store

    async def close(self, store: Store) -> None:
        self._open.remove(store)
        await store.close()

    async def close_all(self) -> None:
        for store in list(self._open):
            await self.close(store)

    async def verify(self, *, signed: bool = True) -> Any:
        return await asyncio.to_thread(
            verify_audit, self.location, checkpoints=self.checkpoints, public_pem=PUBLIC if signed else None
        )

    async def tamper(self, *statements: str) -> None:
        """Change stored history the way someone with write access to the database could."""
        if not self.db.is_postgres:
            with closing(sqlite3.connect(self.db.path, isolation_level=None)) as conn:
                conn.execute("DROP TRIGGER audit_no_update")
                conn.execute("DROP TRIGGER audit_no_delete")
                for sql in statements:
                    conn.execute(sql)
            return
        conn = await asyncpg.connect(BASE_URL, server_settings={"search_path": self.db.schema})
        try:
            await conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()


@pytest.fixture
async def governance(database_url: str, tmp_path: Path) -> AsyncIterator[Governance]:
    opened = Governance(database_url, tmp_path)
    try:
        yield opened
    finally:
        await opened.close_all()


async def _append(store: Store, i: int, **extra: Any) -> Any:
    args = {"account_number": "ACC-1234567", "i": i, "note": 'a "quoted" é'}
    return await store.append(
        agent="payment" if i % 2 else "billing",
        tool="payments.issue_refund",
        conversation_id=f"conv-{i % 2}",
        customer_id="CUST-00001",
        arguments=args,
        arguments_digest=digest(args),
        decision="allow",
        policy_ids=["grant.x"],
        latency_ms=0.25 * i,
        raw_arguments=args,
        **extra,
    )


async def test_chain_appends_verifies_and_reads_back(governance: Governance) -> None:
    store = await governance.open()
    records = [await _append(store, i) for i in range(10)]
    await governance.close(store)
    store = await governance.open()  # a restarted gateway continues the same chain
    records.append(await _append(store, 10))
    assert [r.seq for r in records] == list(range(1, 12)) and records[5].prev_hash == records[4].hash
    report = await governance.verify()
    assert report.intact and report.count == 11 and "checkpoints match" in report.reason, report

    read = await asyncio.to_thread(read_audit, governance.location, conversation_id="conv-1")
    assert [r.seq for r in read] == [2, 4, 6, 8, 10] and read[0] == records[1]
    page = await asyncio.to_thread(read_traces, governance.location, TraceFilter(agent="billing"), before=None, limit=3)
    assert [t.seq for t in page.traces] == [11, 9, 7] and page.next_before == 7
    explained = await asyncio.to_thread(explain, governance.location, records[3].id)
    assert explained["decision"]["seq"] == 4 and len(explained["conversation_calls"]) == 5
    assert await store.raw_arguments(records[0].id) == records[0].arguments
    assert await store.erase_customer("CUST-00001") == 11 and await store.raw_arguments(records[0].id) is None
    assert (await governance.verify()).intact


async def test_history_cannot_be_changed_in_place(governance: Governance) -> None:
    store = await governance.open()
    for i in range(3):
        await _append(store, i)
    errors = (sqlite3.IntegrityError, asyncpg.RaiseError)
    for sql in ("UPDATE audit SET hash = 'x' WHERE seq = 2", "DELETE FROM audit WHERE seq = 3"):
        with pytest.raises(errors, match="append-only"):
            if isinstance(store, AuditStore):
                with closing(sqlite3.connect(governance.db.path, isolation_level=None)) as conn:
                    conn.execute(sql)
            else:
                conn = await asyncpg.connect(BASE_URL, server_settings={"search_path": governance.db.schema})
                try:
                    await conn.execute(sql)
                finally:
                    await conn.close()
    assert (await governance.verify()).count == 3


TAMPERING = {
    "changed body": (
        ["UPDATE audit SET body = replace(body, '\"decision\":\"allow\"', '\"decision\":\"deny\"') WHERE seq = 5"],
        5, "record content changed",
    ),
    "changed hash": ([f"UPDATE audit SET hash = '{'0' * 64}' WHERE seq = 4"], 4, "record content changed"),
    "deleted record": (["DELETE FROM audit WHERE seq = 3"], 3, "record 3 is missing (found 4)"),
    "cut-off tail": (["DELETE FROM audit WHERE seq > 6"], 7, "cut off the end"),
    "swapped records": (
        [
            # ids are unique: park one body aside, then swap (the body's seq no longer matches its row).
            "UPDATE audit SET seq = 100 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = 4",
            "UPDATE audit SET seq = 4 WHERE seq = 100",
        ],
        3, "previous-hash link broken",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_is_detected_and_named(governance: Governance, case: str) -> None:
    store = await governance.open()
    for i in range(8):
        await _append(store, i)
    await governance.close(store)
    statements, broken_at, reason = TAMPERING[case]
    if case == "swapped records":
        # The CHECK ties a row's seq to its body: a tamperer must drop it first, and can.
        drop = "audit_body_seq" if governance.db.is_postgres else None
        statements = (
            [f"ALTER TABLE audit DROP CONSTRAINT {drop}"] if drop else ["PRAGMA ignore_check_constraints = ON"]
        ) + statements
    await governance.tamper(*statements)
    report = await governance.verify()
    assert not report.intact and report.first_broken_seq == broken_at, report
    assert reason in report.reason
    status = await asyncio.to_thread(chain_status, governance.location, PUBLIC, governance.checkpoints)
    assert not status.intact and status.first_broken_seq == broken_at


async def _pending(store: Store, approvals: ApprovalStore) -> Approval:
    approval = Approval(
        id=new_id(), status=PENDING, agent="payment", tool="payments.issue_refund", arguments={"amount": 99},
        arguments_digest=digest({"amount": 99}), conversation_id="conv-1", customer_id="CUST-00001", envelope="{}",
        policy_ids=["approval.refund"], reason="above the limit", request_audit_id="-", created_at=time.time(),
        expires_at=time.time() + 600,
    )  # fmt: skip
    await store.append(
        agent="payment", tool="payments.issue_refund", arguments=approval.arguments,
        arguments_digest=approval.arguments_digest, decision="approval-required", policy_ids=approval.policy_ids,
        also=(insert_statement(approval),),
    )  # fmt: skip
    return approval


async def _decide(store: Store, approval: Approval, who: str) -> str:
    try:
        await store.append(
            agent=f"staff:{who}", tool="governance.approve", arguments={"approval": approval.id},
            arguments_digest=digest({"approval": approval.id}), decision="approved", policy_ids=["staff-api"],
            approver=who, also=(transition(approval.id, PENDING, "approved", by=who, at=time.time()),),
        )  # fmt: skip
    except StaleState:
        return "stale"
    return "approved"


async def test_an_approval_is_decided_once_even_by_two_replicas_at_once(governance: Governance) -> None:
    first, second = await governance.open(), await governance.open()
    approvals = await ApprovalStore.open(first)
    approval = await _pending(first, approvals)
    outcomes = await asyncio.gather(_decide(first, approval, "ana"), _decide(second, approval, "ben"))
    assert sorted(outcomes) == ["approved", "stale"]
    decided = await (await ApprovalStore.open(second)).get(approval.id)
    assert decided is not None and decided.status == "approved" and decided.decided_by in ("ana", "ben")
    assert await _decide(first, approval, "cy") == "stale"  # decided approvals stay decided
    records = await asyncio.to_thread(read_audit, governance.location, limit=10)
    assert [r.decision for r in records] == ["approval-required", "approved"]  # the loser recorded nothing
    assert (await governance.verify()).intact


async def test_replicas_appending_together_keep_one_gap_free_chain(governance: Governance) -> None:
    replicas = [await governance.open(every=16) for _ in range(3)]

    async def writer(store: Store, offset: int) -> list[int]:
        return [(await _append(store, offset + i)).seq for i in range(40)]

    written = await asyncio.gather(*(writer(store, 100 * n) for n, store in enumerate(replicas)))
    assert sorted(seq for seqs in written for seq in seqs) == list(range(1, 121))
    for store in replicas:
        await governance.close(store)  # each signs the newest record it wrote, into the one file
    report = await governance.verify()
    assert report.intact and report.count == 120, report
    lines = governance.checkpoints.read_text().splitlines()
    assert len(lines) >= 8 and all(line.startswith('{"seq"') for line in lines)


async def test_a_kill_switch_set_on_one_replica_bites_on_the_other_within_a_second(governance: Governance) -> None:
    if not governance.db.is_postgres:
        pytest.skip("a SQLite log has one gateway process; replicas need PostgreSQL")
    one, other = await governance.open(), await governance.open()
    theirs = await GovernanceState.load(other)
    changed = asyncio.Event()

    async def follow() -> None:
        await theirs.reload(other)
        changed.set()

    other.watch(follow)
    await asyncio.wait_for(changed.wait(), 5)  # listening (the first reload catches up)
    for on in (True, False):
        changed.clear()
        started = time.perf_counter()
        await one.append(
            agent="staff:ana", tool="governance.kill-switch", arguments={"on": on}, arguments_digest=digest({}),
            decision="allow", policy_ids=["staff-api"],
            also=GovernanceState.switch_statements(kill_scope("all"), "incident", "ana", on),
        )  # fmt: skip
        while (theirs.killed("payment", "payments.issue_refund") is not None) != on:
            await asyncio.wait_for(changed.wait(), 1.0 - (time.perf_counter() - started))
            changed.clear()
        assert time.perf_counter() - started < 1.0


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with private_schema() as url:
        yield url


async def test_dropped_connections_are_replaced_and_nothing_is_half_written(pg_url: str, tmp_path: Path) -> None:
    governance = Governance(pg_url, tmp_path)
    store = await governance.open()
    try:
        await _append(store, 0)
        assert await terminate_backends(pg_url) >= 1
        await _append(store, 1)  # a fresh connection: the chain goes on

        # Hold the row the next state change must write, so its transaction waits mid-way; then drop it.
        holder = await asyncpg.connect(BASE_URL, server_settings={"search_path": governance.db.schema})
        await GovernanceState.load(store)
        await holder.execute("INSERT INTO kill_switches VALUES ('all', 'x', 0, 'x')")
        lock = holder.transaction()
        await lock.start()
        await holder.execute("SELECT 1 FROM kill_switches WHERE scope = 'all' FOR UPDATE")
        also = (("DELETE FROM kill_switches WHERE scope = ?", ("all",)),)
        pending = asyncio.create_task(_append(store, 2, also=also))
        while not await holder.fetchval(  # noqa: ASYNC110 -- the condition lives in the server: poll it
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = $1",
            f"switchboard/{governance.db.schema}",
        ):
            await asyncio.sleep(0.01)
        assert await terminate_backends(pg_url) >= 1  # the waiting transaction dies; the append retries
        await lock.rollback()
        record = await asyncio.wait_for(pending, 30)
        assert record.seq == 3
        assert await holder.fetchval("SELECT count(*) FROM kill_switches") == 0
        assert await holder.fetchval("SELECT count(*) FROM audit") == 3  # exactly once
        await holder.close()
        assert (await governance.verify()).intact
    finally:
        await store.close()


async def _proxy(target_port: int) -> tuple[asyncio.Server, list[asyncio.StreamWriter]]:
    """A TCP relay to PostgreSQL that the test can pull the plug on (closing every connection)."""
    streams: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
        streams.extend((client_w, server_w))
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    return await asyncio.start_server(relay, "127.0.0.1", 0), streams


async def test_a_database_that_goes_away_fails_closed_with_a_clear_error(pg_url: str, tmp_path: Path) -> None:
    real = DatabaseURL.parse(pg_url, default_sqlite=tmp_path / "unused.db")
    server, streams = await _proxy(5432)
    port = server.sockets[0].getsockname()[1]
    through = DatabaseURL.parse(pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"), default_sqlite=tmp_path)
    store = await PostgresAuditStore.open(through, retry_delays=(0.0, 0.05, 0.1))
    try:
        await GovernanceState.load(store)
        await _append(store, 0)
        server.close()
        for stream in streams:
            stream.close()
        await server.wait_closed()
        also = GovernanceState.switch_statements(kill_scope("all"), "incident", "ana", True)
        with pytest.raises(ServiceUnavailable, match="database is not answering"):
            await _append(store, 1, also=also)
    finally:
        await store.close()
    report = await asyncio.to_thread(verify_audit, real)
    assert report.intact and report.count == 1
    conn = await asyncpg.connect(BASE_URL, server_settings={"search_path": real.schema})
    try:
        assert await conn.fetchval("SELECT count(*) FROM kill_switches") == 0
    finally:
        await conn.close()


async def test_audit_commands_read_the_log_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    governance = Governance(pg_url, tmp_path)
    store = await governance.open()
    try:
        records = [await _append(store, i) for i in range(5)]
    finally:
        await store.close()
    env = {"SWITCHBOARD_DATABASE_URL": pg_url, "PATH": "/usr/bin:/bin"}

    def switchboard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args, "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=120, check=False, env=env)  # fmt: skip

    verified = await asyncio.to_thread(switchboard, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("intact: 5 records"), verified
    explained = await asyncio.to_thread(switchboard, "audit", "explain", records[2].id)
    assert explained.returncode == 0 and f"record {records[2].seq}" in explained.stdout, explained
    await governance.tamper("DELETE FROM audit WHERE seq = 2")
    broken = await asyncio.to_thread(switchboard, "audit", "verify")
    assert broken.returncode == 1 and broken.stdout.startswith("BROKEN at record 2: record 2 is missing"), broken
