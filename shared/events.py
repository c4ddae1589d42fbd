"""Enterprise change events as CloudEvents (v1.0, JSON structured format).

Types are stable names under ``io.switchboard.`` (e.g. ``io.switchboard.billing.plan-changed``);
the subject is the unified customer id when the event is about a customer, so projections
and policies can key on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any, Protocol

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from shared.errors import InvalidRequest

TYPE_PREFIX = "io.switchboard."
_FORMAT = JSONFormat()

# The event catalog: ``<system>.<what happened>``. Payloads name the system's own key
# (msisdn, email, account_number, customer_id); the subject is the unified customer id.
PLAN_CHANGED = "billing.plan-changed"
INVOICE_ISSUED = "billing.invoice-issued"
PAYMENT_SETTLED = "payments.payment-settled"
REFUND_ISSUED = "payments.refund-issued"
TICKET_UPDATED = "support.ticket-updated"
CONSENT_CHANGED = "consent.consent-changed"
SIM_SWAPPED = "network.sim-swapped"
ROAMING_CHANGED = "network.roaming-changed"
CONNECTIVITY_CHANGED = "network.connectivity-changed"
SIGNAL_REFUSED = "signals.refused"
# A customer's phone number changed (data: customer_id, msisdn, previous_msisdn); the number
# projection the gateway keeps for network signals follows it.
NUMBER_CHANGED = "identity.number-changed"
# A customer's contact details changed at identity, their system of record (data: customer_id,
# email, msisdn, previous_email, changed_at); the CRM and support follow the address.
CONTACT_CHANGED = "identity.contact-changed"
# A system's outbox relay found nothing waiting at ``drained_at`` (data: system, drained_at): every
# change that system committed before then was published before this event. Projections measure
# their staleness against it, so a quiet feed and a stalled one are told apart.
FEED_WATERMARK = "feed.watermark"
WATERMARKED_FEEDS = frozenset({"billing", "payments", "support", "consent", "identity"})
"""The systems whose feeds a reader measures its staleness against (the gateway's projection reads
consent and support, the CRM's view these five). Only their relays publish watermarks: the
readers of every event (the gateway, the CRM) would receive and acknowledge the others' for nothing."""
ENTERPRISE_KINDS = (PLAN_CHANGED, INVOICE_ISSUED, PAYMENT_SETTLED, REFUND_ISSUED, TICKET_UPDATED, CONSENT_CHANGED)
SIGNAL_KINDS = (SIM_SWAPPED, ROAMING_CHANGED, CONNECTIVITY_CHANGED)

Handler = Callable[[CloudEvent], Awaitable[None]]


def new_event(
    kind: str, source: str, data: dict[str, Any], *, subject: str | None = None, id: str | None = None
) -> CloudEvent:
    """A CloudEvent of type ``io.switchboard.<kind>`` from ``source`` (e.g. ``/systems/billing``)."""
    attributes: dict[str, Any] = {
        "type": TYPE_PREFIX + kind,
        "source": source,
        "id": id or uuid.uuid4().hex,
        "time": datetime.now(UTC),
    }
    if subject:
        attributes["subject"] = subject
    return CloudEvent(attributes, data)


def kind_of(event: CloudEvent) -> str:
    """``billing.plan-changed`` for ``io.switchboard.billing.plan-changed``."""
    return event.get_type().removeprefix(TYPE_PREFIX)


def encode(event: CloudEvent) -> bytes:
    return _FORMAT.write(event)


def decode(raw: bytes | str) -> CloudEvent:
    try:
        event = _FORMAT.read(CloudEvent, raw)
    except Exception as exc:  # the SDK raises several unrelated types for bad input
        raise InvalidRequest(f"not a valid CloudEvent: {exc}") from exc
    if not isinstance(event, CloudEvent):
        raise InvalidRequest(f"not a CloudEvents 1.0 event: {type(event).__name__}")
    return event


def data_of(event: CloudEvent) -> dict[str, Any]:
    """The event's data as the JSON object Switchboard events carry ({} for none or another shape)."""
    data = event.get_data()
    return data if isinstance(data, dict) else {}


class Subscription(Protocol):
    async def stop(self) -> None:
        """Stop delivering to this subscriber; the durable name keeps its place."""
        ...


class EventBus(Protocol):
    """At-least-once delivery of CloudEvents; consumers must be idempotent (dedupe on ``id``)."""

    async def publish(self, event: CloudEvent) -> None:
        """Raise when the event could not be handed to the bus; the caller keeps it."""
        ...

    async def subscribe(
        self,
        durable: str,
        handler: Handler,
        *,
        fan_out: bool = False,
        since: float | None = None,
        kinds: Collection[str] | None = None,
    ) -> Subscription:
        """Deliver every event to ``handler``; a handler that raises gets the event again later.

        ``kinds`` (as ``kind_of`` names them): only those reach the handler, and on NATS the
        server leaves the others out where it can (an idle deployment's feed watermarks never
        wake a consumer that does not read them). None: every event.

        Shared (default): the replicas subscribing with one durable name split the events, each
        handled by one of them. ``fan_out``: every replica gets every event (in-memory state);
        a new replica starts at ``since`` (epoch seconds), or from now when None: what it keeps
        in memory comes from the system of record at start-up, not from replaying history.
        """
        ...

    async def close(self) -> None: ...
