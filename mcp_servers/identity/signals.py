"""Network signals the identity system keeps: a SIM swap demands a step-up, and proactive care
about a recorded signal gets a short, lowest-assurance auth context."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cloudevents.core.v1.event import CloudEvent

from mcp_servers.identity.models import SignalContext
from mcp_servers.identity.records import customer_keys, iso_seconds
from shared.envelope import CustomerRef
from shared.errors import InvalidRequest, NotFound
from shared.events import SIGNAL_KINDS, SIM_SWAPPED, data_of, kind_of

if TYPE_CHECKING:
    from mcp_servers.identity.backend import ReferenceIdentityBackend

SIGNAL_CONTEXT_SECONDS = 300
SIGNAL_CONTEXT_MAX_AGE_SECONDS = 3600
SIGNAL_ASSURANCE = "AAL0"


async def apply_signal(backend: ReferenceIdentityBackend, event: CloudEvent) -> bool:
    """Remember a network signal about one of our customers; a SIM swap demands a step-up."""
    kind = kind_of(event)
    data = data_of(event)
    if kind not in SIGNAL_KINDS or not data.get("msisdn") or not data.get("signal_id"):
        return False
    row = await backend.fetchone("SELECT customer_id FROM customers WHERE msisdn = ?", (data["msisdn"],))
    if row is None:
        return False
    customer_id, at = row["customer_id"], str(data.get("occurred_at") or iso_seconds(backend._clock()))

    async def write() -> None:
        await backend.execute(
            "INSERT INTO signals_seen VALUES (?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING",
            (data["signal_id"], kind, customer_id, at),
        )
        if kind == SIM_SWAPPED:
            await backend.execute(
                "INSERT INTO step_ups VALUES (?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE"
                " SET reason = excluded.reason, signal_id = excluded.signal_id, since = excluded.since",
                (customer_id, "the SIM card of this number was swapped", data["signal_id"], at),
            )

    return await backend.apply_once(event.get_id(), write)


async def issue_signal_context(
    backend: ReferenceIdentityBackend, signal_id: str, conversation_id: str
) -> SignalContext:
    """A short, lowest-assurance auth context for proactive care about a signal we received."""
    seen = await backend.fetchone("SELECT * FROM signals_seen WHERE signal_id = ?", (signal_id,))
    if seen is None:
        raise NotFound(
            f"no network signal {signal_id} was received for any customer",
            hint="proactive care acts only on signals the identity system has recorded",
        )
    now = backend._clock()
    if datetime.fromisoformat(seen["occurred_at"].replace("Z", "+00:00")).timestamp() < now - (
        SIGNAL_CONTEXT_MAX_AGE_SECONDS
    ):
        raise InvalidRequest(f"signal {signal_id} is over an hour old", hint="act on current signals only")
    keys = customer_keys(await backend._customer(seen["customer_id"]))
    token = backend._signal_signer.issue(
        keys, method="network-signal", assurance=SIGNAL_ASSURANCE, conversation_id=conversation_id, now=now
    )
    return SignalContext(
        customer_id=keys.customer_id,
        customer=CustomerRef(keys=keys),
        auth_context=token,
        expires_at=iso_seconds(int(now) + SIGNAL_CONTEXT_SECONDS),
    )
