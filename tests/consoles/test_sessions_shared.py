"""Console sessions shared by orchestrator processes: PostgreSQL for replicas, a SQLite file for the
processes of ``switchboard up --workers`` (memory for one process given neither)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.consoles import ConsoleSettings, StaffSessions
from orchestrator.consoles.sessions import (
    MemorySessionRecords,
    PostgresSessionRecords,
    SqliteSessionRecords,
    session_records_for,
)
from orchestrator.shared_files import CONSOLE_SESSIONS_DB, sign_staff_out
from shared.secrets import StaffCredential
from tests.storage.pg import private_schema

ACCOUNTS = {
    "ann": StaffCredential(token="a" * 43, role="compliance"),
    "bob": StaffCredential(token="b" * 43, role="agent"),
}


class Clock:
    now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
async def schema_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str | Path]:
    """Where the processes keep their sessions: a PostgreSQL schema, or one SQLite file."""
    if request.param == "sqlite":
        yield tmp_path / CONSOLE_SESSIONS_DB
        return
    async with private_schema("sess") as url:
        yield url


def replica(
    where: str | Path, clock: Clock, accounts: dict[str, StaffCredential] = ACCOUNTS, **settings: int
) -> StaffSessions:
    records = session_records_for(where, None) if isinstance(where, str) else session_records_for(None, where)
    return StaffSessions(accounts, ConsoleSettings(**settings), clock=clock, records=records)


async def test_a_session_signed_in_on_one_replica_works_and_ends_on_the_other(schema_url: str | Path) -> None:
    clock = Clock()
    one, two = replica(schema_url, clock), replica(schema_url, clock)
    try:
        signed = await one.sign_in("ann", "a" * 43)
        assert signed is not None
        cookie, session = signed
        seen = await two.get(cookie)
        assert seen is not None and (seen.name, seen.role, seen.csrf_token) == ("ann", "compliance", session.csrf_token)
        assert seen.gateway_token == "a" * 43  # from the accounts, never from the database

        assert await two.signed_in("ann") and not await two.signed_in("bob")  # what keeps case leases
        await two.end(cookie)
        assert await one.get(cookie) is None and not await one.signed_in("ann")
        assert await one.sign_in("ann", "wrong") is None and await one.count() == 0
    finally:
        await one.close()
        await two.close()


async def test_expiry_the_cap_and_a_removed_account_end_sessions(schema_url: str | Path) -> None:
    clock = Clock()
    one = replica(schema_url, clock, session_ttl_seconds=60, max_sessions=10)
    try:
        cookies = []
        for _ in range(12):
            signed = await one.sign_in("bob", "b" * 43)
            assert signed is not None
            cookies.append(signed[0])
            clock.now += 1
        assert await one.count() == 10  # the oldest two were dropped
        assert await one.get(cookies[0]) is None and await one.get(cookies[-1]) is not None

        assert await one.signed_in("bob")
        clock.now += 61
        assert await one.get(cookies[-1]) is None  # expired
        assert not await one.signed_in("bob")  # and with it any case bob held

        clock.now = Clock.now
        fresh = await one.sign_in("ann", "a" * 43)
        assert fresh is not None
        without_ann = replica(schema_url, clock, {"bob": ACCOUNTS["bob"]})
        try:
            assert await without_ann.get(fresh[0]) is None  # the account is gone on this replica
        finally:
            await without_ann.close()
    finally:
        await one.close()


async def test_a_dead_database_gives_a_clear_error_and_memory_needs_none() -> None:
    from shared.errors import ServiceUnavailable

    records = session_records_for("postgresql://nobody@127.0.0.1:1/none")
    assert isinstance(records, PostgresSessionRecords)
    sessions = StaffSessions(ACCOUNTS, records=records)
    with pytest.raises(ServiceUnavailable, match="cannot reach PostgreSQL"):
        await sessions.sign_in("ann", "a" * 43)
    await sessions.close()

    assert isinstance(session_records_for(None), MemorySessionRecords)
    assert isinstance(session_records_for("sqlite:///x.db"), MemorySessionRecords)
    assert isinstance(session_records_for("sqlite:///x.db", Path("s.db")), SqliteSessionRecords)


async def test_a_start_signs_everyone_out_of_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / CONSOLE_SESSIONS_DB
    sign_staff_out(tmp_path)  # no file yet: nothing to do
    clock = Clock()
    before = replica(path, clock)
    signed = await before.sign_in("ann", "a" * 43)
    assert signed is not None
    await before.close()

    sign_staff_out(tmp_path)  # what ``switchboard up`` does before its orchestrator processes start
    after = replica(path, clock)
    try:
        assert await after.get(signed[0]) is None and await after.count() == 0
    finally:
        await after.close()
