"""How a backend's statements reach its database: whole transactions, reads sent together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shared.errors import InvalidRequest
from shared.events import REFUND_ISSUED
from tests.storage.backends.conftest import Systems, pending_events

REFUSED = "may await only its own statements"


async def _refunded(backend, charge_id: str) -> int:
    row = await backend.fetchone("SELECT refunded_pence FROM charges WHERE charge_id = ?", (charge_id,))
    return int(row["refunded_pence"])


async def _duplicate(systems: Systems):
    payments, account, duplicate = await systems.duplicate_charge()
    return payments, account, duplicate.charge_id


async def _pending(backend) -> int:
    return len(await pending_events(backend))


async def test_a_transaction_failing_after_its_blocking_work_leaves_nothing_written(
    systems: Systems, tmp_path: Path
) -> None:
    payments, _, charge_id = await _duplicate(systems)
    before, events = await _refunded(payments, charge_id), await _pending(payments)
    marker = tmp_path / "blocking-ran"

    async def fails_half_way() -> None:
        await payments.execute(
            "UPDATE charges SET refunded_pence = refunded_pence + 1 WHERE charge_id = ?", (charge_id,)
        )
        await payments.emit(REFUND_ISSUED, {"refund_id": "RF-NEVER"}, subject=None)
        await payments.blocking(marker.touch)
        raise InvalidRequest("refused half-way")

    with pytest.raises(InvalidRequest, match="half-way"):
        await payments.transaction(fails_half_way)
    assert marker.exists(), "the blocking work ran inside the transaction"
    assert await _refunded(payments, charge_id) == before
    assert await _pending(payments) == events


async def test_concurrent_transactions_each_commit_whole(systems: Systems) -> None:
    payments, _, charge_id = await _duplicate(systems)
    before = await _refunded(payments, charge_id)

    async def add_one(key: str) -> dict:
        async def action() -> dict:
            await payments.execute(
                "UPDATE charges SET refunded_pence = refunded_pence + 1 WHERE charge_id = ?", (charge_id,)
            )
            return {"key": key, "seen": await _refunded(payments, charge_id)}

        return await payments.idempotent("bump", key, {"key": key}, action)

    results = await asyncio.gather(*(add_one(f"k-{i}") for i in range(12)))
    assert await _refunded(payments, charge_id) == before + 12
    # Each saw its own write on top of every earlier one: none interleaved with another.
    assert sorted(r["seen"] for r in results) == list(range(before + 1, before + 13))


# A PostgreSQL transaction is a connection held across awaits, so it may wait on the loop: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_transaction_that_waits_on_the_event_loop_is_refused_and_rolled_back(
    systems: Systems,
) -> None:
    payments, _, charge_id = await _duplicate(systems)
    before = await _refunded(payments, charge_id)

    async def waits() -> None:
        await payments.execute(
            "UPDATE charges SET refunded_pence = refunded_pence + 1 WHERE charge_id = ?", (charge_id,)
        )
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match=REFUSED):
        await payments.transaction(waits)
    assert await _refunded(payments, charge_id) == before
    # The connection is left usable, outside any transaction.
    assert (
        await payments.transaction(lambda: payments.execute("UPDATE charges SET refunded_pence = refunded_pence")) > 0
    )


async def test_reads_sent_together_answer_as_lone_reads(systems: Systems) -> None:
    payments, account, charge_id = await _duplicate(systems)
    alone = (
        await payments.fetchone("SELECT account_number FROM accounts WHERE account_number = ?", (account,)),
        await payments.fetchall(
            "SELECT charge_id FROM charges WHERE account_number = ? ORDER BY charge_id", (account,)
        ),
    )

    async def both() -> tuple:
        return (
            await payments.fetchone("SELECT account_number FROM accounts WHERE account_number = ?", (account,)),
            await payments.fetchall(
                "SELECT charge_id FROM charges WHERE account_number = ? ORDER BY charge_id", (account,)
            ),
        )

    together = await payments.reading(both)
    assert tuple(together[0]) == tuple(alone[0])
    assert [tuple(r) for r in together[1]] == [tuple(r) for r in alone[1]]
    assert charge_id in {r[0] for r in together[1]}


async def _charge_refunded(payments, account: str, charge_id: str) -> float:
    charges = (await payments.list_charges(account, 50)).charges
    return next(c.refunded_amount for c in charges if c.charge_id == charge_id)


async def test_a_read_method_inside_a_transaction_sees_its_uncommitted_writes(systems: Systems) -> None:
    payments, account, charge_id = await _duplicate(systems)
    before = await _charge_refunded(payments, account, charge_id)

    async def write_then_read() -> None:
        await payments.execute(
            "UPDATE charges SET refunded_pence = refunded_pence + 100 WHERE charge_id = ?", (charge_id,)
        )
        raise InvalidRequest(f"seen {await _charge_refunded(payments, account, charge_id)}")

    with pytest.raises(InvalidRequest, match="seen") as seen:
        await payments.transaction(write_then_read)
    assert float(seen.value.message.split()[-1]) == pytest.approx(before + 1.0)
    assert await _charge_refunded(payments, account, charge_id) == before


# PostgreSQL reads run on the event loop's pool, where waiting is allowed: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_reads_sent_together_refuse_waiting_on_the_event_loop(systems: Systems) -> None:
    payments = await systems.open("payments")

    async def waits() -> None:
        await payments.fetchone("SELECT 1")
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match=REFUSED):
        await payments.reading(waits)
    assert tuple(await payments.reading(lambda: payments.fetchone("SELECT 2"))) == (2,)
