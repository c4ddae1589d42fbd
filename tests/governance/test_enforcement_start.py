"""The gateway's signal consumer starts even when its store is slow to answer the first read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gateway.audit_store import AuditStore, AuditUnavailable
from gateway.catalog import Catalog
from gateway.enforcement import RESUME_MARGIN_SECONDS, start_enforcement
from gateway.facts import UpstreamFacts
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from shared.authcontext import AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.bus import InProcessBus


class SlowAtFirst(AuditStore):
    """A real SQLite audit store whose first ``misses`` reads overrun the call budget."""

    misses = 0

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.misses:
            self.misses -= 1
            raise AuditUnavailable("the audit store did not answer in time: the record could not be written")
        return await super().fetch(sql, params)


class Recording(InProcessBus):
    since: float | None = None

    async def subscribe(self, durable: str, handler: Any, *, fan_out: bool = False, since: float | None = None) -> Any:
        self.since = since
        return await super().subscribe(durable, handler, fan_out=fan_out, since=since)


@pytest.mark.parametrize("misses", [0, 3])
async def test_the_consumer_resumes_from_the_last_applied_signal_however_slow_the_first_read(
    tmp_path: Path, misses: int
) -> None:
    store = await SlowAtFirst.open(tmp_path / "audit.db")
    assert isinstance(store, SlowAtFirst)
    applied_at = time.time() - 500
    await store.run((("INSERT INTO applied_events (event_id, applied_at) VALUES (?, ?)", ("e-1", applied_at)),))
    store.misses = misses
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    gateway = Gateway(
        catalog=Catalog([], policy),
        policy=policy,
        verifier=AuthContextVerifier(public_pem_from_private(generate_private_key_pem())),
        store=store,
        links={},
        facts=UpstreamFacts({}),
    )
    bus = Recording()
    try:
        subscription = await start_enforcement(bus, gateway)
        await subscription.stop()
    finally:
        await store.close()
    assert store.misses == 0
    assert bus.since == pytest.approx(applied_at - RESUME_MARGIN_SECONDS)
