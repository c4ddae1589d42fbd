"""A correctly signed signal dated too long ago or too far ahead is refused (422), audited, never applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import RunningStack
from tests.signals.conftest import SIM_SWAP, notification, rows, send, wait_for_rows

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.parametrize(
    ("dated", "says"),
    [
        (datetime(2001, 9, 1, tzinfo=UTC), "ago"),
        (datetime(2099, 1, 1, tzinfo=UTC), "ahead of our clock"),
        (timedelta(minutes=-6), "ago"),
        (timedelta(minutes=2), "ahead of our clock"),
    ],
)
async def test_a_signal_outside_the_time_window_is_refused_and_audited(
    running: RunningStack, dated: datetime | timedelta, says: str
) -> None:
    if isinstance(dated, timedelta):  # relative to when the test runs, not when it was collected
        dated = datetime.now(UTC) + dated
    base, data_dir = running.topology.orchestrator, running.data_dir
    msisdn = running.customers(40)[35]["msisdn"]
    swap = {**notification(SIM_SWAP, msisdn), "time": dated.isoformat()}
    answer = await send(base, data_dir, swap)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "signal_out_of_window" and says in error["message"]
    assert rows(data_dir / "signals.db", "SELECT outcome FROM signal_log WHERE signal_id = ?", (swap["id"],)) == [
        ("refused",)
    ]
    audited = await wait_for_rows(
        data_dir / "audit.db",
        "SELECT reason FROM audit WHERE tool = 'signals.ingest' AND decision = 'deny' AND reason LIKE ?",
        (f"%signal_out_of_window%{dated.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}%",),
    )
    assert audited


async def test_a_signal_a_few_seconds_old_is_still_accepted(running: RunningStack) -> None:
    msisdn = running.customers(40)[36]["msisdn"]
    recent = {**notification(SIM_SWAP, msisdn), "time": (datetime.now(UTC) - timedelta(seconds=20)).isoformat()}
    answer = await send(running.topology.orchestrator, running.data_dir, recent)
    assert answer.status_code == 202, answer.text
