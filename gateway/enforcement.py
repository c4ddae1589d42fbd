"""The governance gateway's side of network signals: a SIM swap puts the customer on fraud hold.

The gateway subscribes to the bus (rather than being called by the orchestrator) so the hold
needs no extra credential or endpoint, works unchanged when the gateway runs as its own
service on NATS, and is re-applied after a gateway restart from the durable consumer. Each
signal event is applied once: its id is claimed first in the same transaction as the audit record
and the hold (a claim that inserts no row rolls the whole transaction back, so replicas racing
on one event leave one record and no error), then the in-memory mirror the gateway reads per
call is updated. Every accepted
and every refused signal also becomes an audit record, so the trail shows them all.

Every gateway replica reads per call from its own mirror, so every replica must see every
signal: the consumer is a fan-out one (its own durable per replica). A replica that finds the
event already applied (by a replica sharing its database) still mirrors the committed hold.
The phone number to customer step reads a projection kept from the same stream
(``numbers.NumberDirectory``); only a number it does not know costs an identity lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from gateway.audit_store import AuditUnavailable, StaleState
from gateway.gateway import Gateway
from gateway.numbers import NumberDirectory
from gateway.policy_interface import Decision, PolicyEngine, PolicyRequest
from gateway.redact import redact
from gateway.state import GovernanceState
from gateway.upstream import UpstreamUnavailable
from shared.audit import digest
from shared.events import SIGNAL_KINDS, SIGNAL_REFUSED, SIM_SWAPPED, EventBus, Subscription, data_of, kind_of
from shared.tools import CALL_META_KEY, CallContext

log = logging.getLogger("switchboard.signals")

DURABLE = "gateway-signals"
SIGNAL_POLICY = "network-signal"
APPLIED = "INSERT INTO applied_events (event_id, applied_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING"
"""Guarded: no row inserted means another replica (or an earlier delivery) applied the event."""


class HoldExplainingPolicy:
    """Wraps the policy engine so a denial of a customer on fraud hold says why the hold is on
    (for a network signal: its id), which lands in the audit record of that denial."""

    def __init__(self, inner: PolicyEngine, state: GovernanceState) -> None:
        self._inner = inner
        self._state = state

    def decide(self, request: PolicyRequest) -> Decision:
        decision = self._inner.decide(request)
        if decision.allowed or not request.fraud_hold:
            return decision
        hold = self._state.fraud_holds.get(request.customer_id)
        if hold is None:
            return decision
        return replace(decision, reason=f"{decision.reason}; fraud hold: {hold['reason']}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SignalEnforcer:
    """The bus handler; raising makes the bus deliver the event again (identity down, say)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gw = gateway
        self.numbers = NumberDirectory(self._resolve)

    async def __call__(self, event: CloudEvent) -> None:
        kind = kind_of(event)
        # Every event may teach the projections something (numbers, consent, tickets); only signals act.
        self.numbers.apply(event)
        if self._gw.projection is not None:
            self._gw.projection.apply(event)
        if kind not in SIGNAL_KINDS and kind != SIGNAL_REFUSED:
            return
        data = data_of(event)
        # A cheap read first spares the identity lookup for a redelivery; the claim decides.
        applied = await self._gw.store.fetch("SELECT 1 FROM applied_events WHERE event_id = ?", (event.get_id(),))
        if not applied:
            try:
                await self._apply(event, kind, data)
                return
            except StaleState:
                log.info("signal event %s was applied by another replica meanwhile", event.get_id())
        if kind == SIM_SWAPPED:
            await self._mirror_committed_hold(data)

    async def _apply(self, event: CloudEvent, kind: str, data: dict[str, Any]) -> None:
        if kind == SIGNAL_REFUSED:
            reason = f"network signal refused ({data.get('code')}): {data.get('reason')}"
            await self._record(event, "deny", reason, data)
            return
        msisdn = data.get("msisdn")
        customer_id = await self.numbers.customer(msisdn) if isinstance(msisdn, str) and msisdn else None
        if customer_id is None:
            await self._record(event, "deny", f"network signal {data.get('signal_id')} names no customer of ours", data)
            return
        if kind != SIM_SWAPPED:
            reason = f"network signal {data.get('signal_id')} accepted: {kind} ({data.get('camara_type')})"
            await self._record(event, "allow", reason, data, customer_id=customer_id)
            return
        reason = f"SIM swap reported by network signal {data.get('signal_id')} at {data.get('occurred_at')}"
        by = f"signal:{data.get('signal_id')}"
        await self._record(
            event,
            "allow",
            f"fraud hold set on {customer_id}: {reason}",
            data,
            customer_id=customer_id,
            tool="governance.fraud-hold",
            also=GovernanceState.hold_statements(customer_id, reason, by, True),
        )
        self._gw.state.fraud_holds[customer_id] = {
            "reason": reason,
            "set_by": by,
            "set_at": time.time(),
            "signal_id": data.get("signal_id"),
        }

    async def _mirror_committed_hold(self, data: dict[str, Any]) -> None:
        """Mirror the hold another replica (or an earlier delivery) committed for this signal, if still on."""
        by = f"signal:{data.get('signal_id')}"
        rows = await self._gw.store.fetch(
            "SELECT customer_id, reason, set_by, set_at FROM fraud_holds WHERE set_by = ?", (by,)
        )
        for customer_id, reason, set_by, set_at in rows:
            hold = {"reason": reason, "set_by": set_by, "set_at": set_at, "signal_id": data.get("signal_id")}
            self._gw.state.fraud_holds[customer_id] = hold

    async def _resolve(self, msisdn: str) -> str | None:
        """The identity system's answer for a number the projection does not know."""
        link = self._gw.links.get("identity")
        if link is None:
            return None
        meta = {
            CALL_META_KEY: CallContext(
                agent="gateway", conversation_id="network-signal", audit_id="network-signal"
            ).model_dump(mode="json")
        }
        try:
            result = await link.call("resolve_customer", {"hint": msisdn}, meta, retry=True)  # a read
        except UpstreamUnavailable as exc:
            raise RuntimeError(f"identity is not answering, the signal waits: {exc.detail}") from exc
        if result.is_error or not isinstance(result.structured_content, dict):
            return None
        found = result.structured_content.get("customer_id")
        return found if isinstance(found, str) else None

    async def _record(
        self,
        event: CloudEvent,
        decision: str,
        reason: str,
        data: dict[str, Any],
        *,
        customer_id: str | None = None,
        tool: str = "signals.ingest",
        also: tuple[tuple[str, tuple[Any, ...]], ...] = (),
    ) -> None:
        arguments = {k: v for k, v in data.items() if v is not None}
        await self._gw.store.append(
            kind="decision",
            decision=decision,
            agent=f"signal:{data.get('signal_id') or 'unverified'}",
            tool=tool,
            conversation_id=f"signal-{data.get('signal_id')}" if data.get("signal_id") else None,
            customer_id=customer_id,
            arguments=redact(arguments),
            arguments_digest=digest(arguments),
            raw_arguments=arguments if customer_id else None,
            policy_ids=[SIGNAL_POLICY],
            reason=reason,
            also=((APPLIED, (event.get_id(), time.time())), *also),
        )


RESUME_MARGIN_SECONDS = 60.0
"""How far before the last applied signal a new replica starts reading: the applied-events key
drops what was applied already, and an event published just before it was applied is not lost."""


async def start_enforcement(bus: EventBus, gateway: Gateway) -> Subscription:
    """Every replica mirrors every hold: a fan-out consumer, one durable per gateway replica.

    The holds themselves are loaded from the database at start-up; a new replica reads the
    stream only from the last signal the deployment applied (from now when none was), so it
    never replays old history into the audit log, yet applies a signal no replica took while
    none ran.
    """
    last = await _last_applied(gateway)
    since = None if last is None else last - RESUME_MARGIN_SECONDS
    return await bus.subscribe(DURABLE, SignalEnforcer(gateway), fan_out=True, since=since)


START_READ_SECONDS = 30.0
"""How long start-up waits for the store to answer the last-applied read."""


async def _last_applied(gateway: Gateway) -> float | None:
    """When the deployment last applied a signal event.

    A start-up read, not a governed call: the store answers each read within a call's budget
    (a fifth of a second), which a database still opening its first connection on a machine
    starting every service at once can miss. Start-up waits for it, within START_READ_SECONDS,
    instead of failing the gateway.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_READ_SECONDS
    while True:
        try:
            rows = await gateway.store.fetch("SELECT max(applied_at) FROM applied_events")
            break
        except AuditUnavailable:
            if loop.time() > deadline:
                raise
            log.info("the audit store is slow to answer at start-up; asking again")
            await asyncio.sleep(0.1)  # the abandoned read finishes opening its connection meanwhile
    last = rows[0][0] if rows else None
    return None if last is None else float(last)
