"""Gateway replicas that receive one signal event at the same moment apply it once, quietly.

Two gateways share one PostgreSQL audit log, each with its own bus subscription (as fan-out
consumers on NATS are); the same event reaches both in the same tick, so both find it not yet
applied and race to claim it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway import read_audit, verify_audit
from shared.authcontext import generate_private_key_pem
from shared.bus.memory import InProcessBus
from shared.database import DatabaseURL
from shared.events import SIGNAL_REFUSED, new_event
from tests.governance.conftest import start_env
from tests.storage.pg import private_schema

WAIT = 10.0


async def _signal_records(db: DatabaseURL, signal_id: str, n: int) -> list:
    async with asyncio.timeout(WAIT):
        while True:
            found = await asyncio.to_thread(read_audit, db, conversation_id=f"signal-{signal_id}")
            if len(found) >= n:
                return found
            await asyncio.sleep(0.02)


async def test_two_replicas_apply_one_event_once_without_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = generate_private_key_pem()
    async with private_schema("sigrep") as url:
        db = DatabaseURL.parse(url, default_sqlite=tmp_path / "unused.db")
        buses = [InProcessBus(replica="a"), InProcessBus(replica="b")]
        async with (
            start_env(tmp_path / "a", key, database_url=url, bus=buses[0]),
            start_env(tmp_path / "b", key, database_url=url, bus=buses[1]),
        ):
            caplog.clear()  # what start-up said is not what this test is about: applying events is
            with caplog.at_level(logging.INFO):
                for signal_id in ("S-1", "S-2", "S-3"):
                    data = {"signal_id": signal_id, "code": "unknown_number", "reason": "no such subscriber"}
                    event = new_event(SIGNAL_REFUSED, "/signals", data)
                    await asyncio.gather(*(bus.publish(event) for bus in buses))
                    [record] = await _signal_records(db, signal_id, 1)
                    assert record.decision == "deny" and "refused" in record.reason
                # Both replicas are done once neither has a backlog left.
                async with asyncio.timeout(WAIT):
                    while True:
                        if not any(bus.backlog(f"gateway-signals-{bus.replica}") for bus in buses):
                            break
                        await asyncio.sleep(0.01)
            for signal_id in ("S-1", "S-2", "S-3"):
                assert len(await _signal_records(db, signal_id, 1)) == 1
            assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
            assert "applied by another replica" in caplog.text
            assert (await asyncio.to_thread(verify_audit, db)).intact
        for bus in buses:
            await bus.close()
