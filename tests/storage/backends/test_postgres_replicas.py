"""Reference backends as replicas on one PostgreSQL: races, seeding, the outbox, dropped connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from cloudevents.core.v1.event import CloudEvent

from mcp_servers._sql import system_database
from mcp_servers.dataset import DATASET_VERSION, prepare_dataset
from mcp_servers.dataset._postgres import seed_postgres
from mcp_servers.payments.backend import ReferencePaymentsBackend, RefundRequest
from shared.database import DatabaseURL
from shared.errors import InvalidRequest, ServiceUnavailable
from shared.events import CONSENT_CHANGED, PLAN_CHANGED, new_event
from shared.outbox import OutboxRelay, PostgresOutbox
from tests.storage.backends.conftest import CUSTOMERS, Systems
from tests.storage.backends.test_backends import CALL
from tests.storage.pg import BASE_URL, private_schema, terminate_backends


@pytest.fixture
async def pg(tmp_path: Path, identity_pem: str) -> AsyncIterator[Systems]:
    async with private_schema() as url:
        await prepare_dataset(tmp_path, url, customers=CUSTOMERS, seed=7)
        systems = Systems(url, tmp_path, identity_pem)
        try:
            yield systems
        finally:
            await systems.close()


def _schema_url(systems: Systems, system: str) -> str:
    return f"{BASE_URL}?schema={system_database(systems.db, system).schema}"


async def test_two_replicas_racing_one_key_act_once(pg: Systems) -> None:
    one, account, duplicate = await pg.duplicate_charge()
    two = await pg.open("payments")
    request = RefundRequest(account, duplicate.charge_id, 1.0, "duplicate")
    results = await asyncio.gather(*(b.issue_refund(request, "race-key", CALL) for b in (one, two) * 4))
    assert {r.refund_id for r in results} == {results[0].refund_id}
    assert len((await two.list_refunds(account)).refunds) == 1
    assert await (await one.open_outbox()).waiting() == 1


async def test_replicas_refunding_one_charge_with_different_keys_never_overrefund(pg: Systems) -> None:
    one, account, duplicate = await pg.duplicate_charge()
    two = await pg.open("payments")
    request = RefundRequest(account, duplicate.charge_id, duplicate.refundable_amount, "duplicate")
    outcomes = await asyncio.gather(
        *(b.issue_refund(request, f"key-{i}", CALL) for i, b in enumerate((one, two) * 3)), return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, InvalidRequest) for o in outcomes if isinstance(o, BaseException))
    assert len((await one.list_refunds(account)).refunds) == 1


async def test_replicas_applying_one_event_apply_it_once(pg: Systems) -> None:
    person = pg.customers(1)[0]
    crms = [await pg.open("crm") for _ in range(2)]
    consent = new_event(
        CONSENT_CHANGED,
        "/systems/consent",
        {"customer_id": person["customer_id"], "purpose": "marketing", "granted": False},
        subject=person["customer_id"],
    )
    plan = new_event(
        PLAN_CHANGED,
        "/systems/billing",
        {"msisdn": person["msisdn"], "new_plan_id": "NW-MAX", "plan_name": "Max", "features": [], "data_gb": 1},
        subject=person["customer_id"],
    )
    applied = await asyncio.gather(*(crm.apply_event(e) for crm in crms for e in (consent, plan, consent, plan)))
    assert sum(applied) == 2
    view = await crms[0].get_customer_view(person["customer_id"])
    assert view.plan["plan_id"] == "NW-MAX" and view.consents == {"marketing": False}, "neither fold lost the other"


async def test_replicas_starting_together_seed_each_schema_once() -> None:
    async with private_schema() as url:
        db = DatabaseURL.parse(url, default_sqlite=Path("unused.db"))
        runs = await asyncio.gather(
            *(seed_postgres(db, customers=CUSTOMERS, seed=7, version=DATASET_VERSION) for _ in range(3))
        )
        seeded = sorted(s for run in runs for s in run)
        assert seeded == sorted(["billing", "consent", "crm", "identity", "network", "payments", "support"])
        conn = await asyncpg.connect(BASE_URL)
        try:
            identity = system_database(db, "identity").schema
            assert await conn.fetchval(f'SELECT COUNT(*) FROM "{identity}".customers') == CUSTOMERS
            assert await conn.fetchval(f'SELECT COUNT(*) FROM "{identity}".dataset_info') == 1
        finally:
            await conn.close()
        assert await seed_postgres(db, customers=CUSTOMERS, seed=7, version=DATASET_VERSION) == []


async def test_postgres_holds_the_same_dataset_as_sqlite(pg: Systems, sqlite_template: Path) -> None:
    from mcp_servers.dataset import sample_customers

    assert pg.customers(CUSTOMERS) == sample_customers(sqlite_template, CUSTOMERS)


async def test_a_dropped_connection_mid_write_reruns_it_whole(pg: Systems) -> None:
    payments, account, duplicate = await pg.duplicate_charge()
    attempts = 0

    async def write() -> dict:
        nonlocal attempts
        attempts += 1
        await payments.execute(
            "UPDATE charges SET refunded_pence = refunded_pence + 1 WHERE charge_id = ?", (duplicate.charge_id,)
        )
        await payments.emit("payments.refund-issued", {"n": attempts}, subject=None)
        if attempts == 1:
            assert await terminate_backends(_schema_url(pg, "payments")) >= 1
        await payments.fetchone("SELECT 1")  # the next statement finds the connection gone
        return {"attempts": attempts}

    assert await payments.idempotent("issue_refund", "drop-key", {"x": 1}, write) == {"attempts": 2}
    row = await payments.fetchone("SELECT refunded_pence FROM charges WHERE charge_id = ?", (duplicate.charge_id,))
    refunded_before = round(duplicate.amount * 100) - round(duplicate.refundable_amount * 100)
    assert row["refunded_pence"] == refunded_before + 1, "the change landed once"
    events = await (await payments.open_outbox()).pending()
    assert [e.get_data() for _, e in events] == [{"n": 2}], "the cut-off attempt left nothing behind"
    # Reads carry on after the server dropped every connection too.
    assert await terminate_backends(_schema_url(pg, "payments")) >= 1
    assert (await payments.list_charges(account, 5)).charges


async def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    db = DatabaseURL.parse("postgresql://postgres@127.0.0.1:1/test?schema=nowhere", default_sqlite=tmp_path / "x")
    backend = ReferencePaymentsBackend(db)
    with pytest.raises(ServiceUnavailable, match="cannot reach PostgreSQL"):
        await backend.open()


class _Recording:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def publish(self, event: CloudEvent) -> None:
        await asyncio.sleep(0)  # hand over to the other relay between publications
        self.ids.append(event.get_id())


async def test_two_relays_share_one_outbox_and_lose_nothing(pg: Systems) -> None:
    payments = await pg.open("payments")
    for i in range(30):
        await payments.idempotent("t", f"k{i}", {}, _emitting(payments, i))
    first, second = [await payments.open_outbox() for _ in range(2)]
    claimed = await first.pending(limit=10)
    rest = await second.pending(limit=100)
    assert len(claimed) == 10 and len(rest) == 20, "a claimed batch is skipped by the other replica"
    assert not {s for s, _ in claimed} & {s for s, _ in rest}
    written = {e.get_id() for _, e in claimed + rest}
    await first.close()  # releases its claim unpublished: the rows wait for any relay
    await second.close()
    bus = _Recording()
    relays = [OutboxRelay(PostgresOutbox(payments.database.pool), bus) for _ in range(2)]
    await asyncio.gather(*(r.relay_once() for r in relays))
    assert set(bus.ids) == written
    assert await PostgresOutbox(payments.database.pool).waiting() == 0


def _emitting(backend, i: int):
    async def action() -> dict:
        await backend.emit("payments.test", {"i": i}, subject=None)
        return {"i": i}

    return action
