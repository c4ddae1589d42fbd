"""The customer view: one row per customer, kept current from every system's events.

This is the projection agents read to see the customer as all systems see them right now
(plan from billing, latest invoice, payments and refunds, open tickets, consent choices,
network signals, contact details from identity). Billing and the other systems stay the source of truth; a field that no
event has touched yet is null, meaning "ask the source system". Each event is applied at
most once (by id), and an event older than what a field already shows never rewinds it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._time import iso, utcnow
from mcp_servers.crm.models import CustomerView, LastEvent
from shared import events as ev

# The table is defined in ``tables.py`` beside this module's system and created by its revisions.

# The view field each event kind sets, and the system key it carries.
_FIELD = {
    ev.PLAN_CHANGED: ("plan", "msisdn"),
    ev.INVOICE_ISSUED: ("latest_invoice", "msisdn"),
    ev.PAYMENT_SETTLED: ("latest_payment", "account_number"),
    ev.REFUND_ISSUED: ("latest_refund", "account_number"),
    ev.TICKET_UPDATED: ("open_tickets", "email"),
    ev.CONSENT_CHANGED: ("consents", "customer_id"),
    ev.SIM_SWAPPED: ("network", "msisdn"),
    ev.ROAMING_CHANGED: ("network", "msisdn"),
    ev.CONNECTIVITY_CHANGED: ("network", "msisdn"),
    ev.CONTACT_CHANGED: ("contact", "customer_id"),
}


def _apply(doc: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
    field, key = _FIELD[kind]
    if data.get(key):
        doc.setdefault("keys", {})[key] = data[key]
    if kind == ev.PLAN_CHANGED:
        doc["plan"] = {k: data.get(k) for k in ("new_plan_id", "plan_name", "features", "data_gb", "effective_from")}
        doc["plan"]["plan_id"] = doc["plan"].pop("new_plan_id")
    elif kind == ev.TICKET_UPDATED:
        tickets = [t for t in doc.get("open_tickets", []) if t["ticket_id"] != data.get("ticket_id")]
        if data.get("status") == "open":
            tickets.append({k: data.get(k) for k in ("ticket_id", "category", "summary", "priority")})
        doc["open_tickets"] = tickets
    elif kind == ev.CONTACT_CHANGED:
        doc["contact"] = {k: data.get(k) for k in ("email", "msisdn", "address")}
        keys = doc.setdefault("keys", {})
        keys.update({k: data[k] for k in ("email", "msisdn") if data.get(k)})
    elif kind == ev.CONSENT_CHANGED:
        doc.setdefault("consents", {})[data["purpose"]] = bool(data.get("granted"))
    elif field == "network":
        network = doc.setdefault("network", {})
        if kind == ev.SIM_SWAPPED:
            network["sim_swapped_at"] = data.get("occurred_at")
        elif kind == ev.ROAMING_CHANGED:
            network["roaming"] = bool(data.get("roaming"))
            network["roaming_country"] = data.get("country_name")
        else:
            network["connectivity"] = data.get("connectivity")
    else:
        doc[field] = {k: v for k, v in data.items() if k != key}


async def _follow_contact(backend: Any, data: dict[str, Any]) -> None:
    """The CRM's own records are keyed by email: a changed address moves them, in the same transaction.

    The profile's city is the town of the postal address, so a move shows in the CRM at once too.
    """
    old, new = data.get("previous_email"), data.get("email")
    address = data.get("address")
    if isinstance(new, str) and isinstance(address, dict) and isinstance(address.get("town"), str):
        await backend.execute("UPDATE profiles SET city = ? WHERE email = ?", (address["town"], old or new))
    if not (isinstance(old, str) and isinstance(new, str)) or old == new:
        return
    # The new row first, then what refers to it, then the old row: every reference stays valid.
    await backend.execute(
        "INSERT INTO profiles (email, name, segment, preferred_channel, city, customer_since, plan_name)"
        " SELECT ?, name, segment, preferred_channel, city, customer_since, plan_name FROM profiles WHERE email = ?"
        " ON CONFLICT (email) DO NOTHING",
        (new, old),
    )
    for table in _BY_EMAIL:
        await backend.execute(f"UPDATE {table} SET email = ? WHERE email = ?", (new, old))
    await backend.execute("DELETE FROM profiles WHERE email = ?", (old,))


_BY_EMAIL = ("interactions", "offers_sent", "service_messages")
"""The CRM tables that refer to a profile by its email."""


SOURCES = ("billing", "payments", "support", "consent", "identity")
"""The systems whose changes the view shows and whose feeds carry watermarks."""
MAX_LAG_SECONDS = 1.0


class CustomerViewStore:
    """The projection's table in the CRM's database; writes are the backend's ``apply_once`` transactions.

    Each source system's feed watermark (``feed.watermark``) is kept in memory: a view read says
    how far behind each source it may be, and names the sources past ``max_lag`` in ``behind``,
    so a reader knows to ask the system of record instead of trusting a stale field.
    """

    def __init__(self, backend: Any, *, max_lag: float = MAX_LAG_SECONDS) -> None:
        self._backend = backend
        self._max_lag = max_lag
        self._watermarks: dict[str, float] = {}

    def staleness(self) -> tuple[dict[str, float | None], list[str]]:
        """Per source, seconds the view may be behind (None: no watermark yet); and the sources past the bound."""
        now = time.time()
        lags = {s: (round(max(0.0, now - w), 3) if (w := self._watermarks.get(s)) else None) for s in SOURCES}
        return lags, [s for s, lag in lags.items() if lag is None or lag > self._max_lag]

    async def get(self, customer_id: str) -> CustomerView:
        row = await self._backend.fetchone("SELECT doc FROM customer_view WHERE customer_id = ?", (customer_id,))
        doc = json.loads(row["doc"]) if row else {}
        lags, behind = self.staleness()
        return CustomerView(customer_id=customer_id, **doc, feeds=lags, behind=behind)

    async def apply(self, event: CloudEvent) -> bool:
        """Fold one event into its customer's row; False when it is not about a customer or seen before."""
        kind = ev.kind_of(event)
        if kind == ev.FEED_WATERMARK:
            data = ev.data_of(event)
            system, drained = data.get("system"), data.get("drained_at")
            if isinstance(system, str) and isinstance(drained, int | float):
                self._watermarks[system] = max(self._watermarks.get(system, 0.0), float(drained))
            return False
        customer_id = event.get_subject()
        if kind not in _FIELD or not customer_id:
            return False
        data = ev.data_of(event)
        occurred = event.get_time()
        at = occurred.timestamp() if occurred else time.time()

        async def write() -> None:
            backend = self._backend
            # The row exists before it is read, locked on PostgreSQL: replicas folding two events
            # of one customer at once take turns instead of overwriting each other's field.
            if backend.lock_rows:
                await backend.execute(
                    "INSERT INTO customer_view VALUES (?, '{}', ?) ON CONFLICT (customer_id) DO NOTHING",
                    (customer_id, iso(utcnow())),
                )
            row = await backend.fetchone(
                f"SELECT doc FROM customer_view WHERE customer_id = ?{backend.lock_rows}", (customer_id,)
            )
            doc = json.loads(row["doc"]) if row else {}
            field = _FIELD[kind][0]
            as_of = doc.setdefault("as_of", {})
            if as_of.get(field, 0) > at and field not in ("open_tickets", "consents", "network"):
                return  # a redelivered older event must not rewind a newer value
            _apply(doc, kind, data)
            if kind == ev.CONTACT_CHANGED:
                await _follow_contact(backend, data)
            as_of[field] = max(as_of.get(field, 0), at)
            doc["last_event"] = LastEvent(
                id=event.get_id(), type=event.get_type(), time=at, applied_at=time.time()
            ).model_dump()
            await backend.execute(
                "INSERT INTO customer_view VALUES (?, ?, ?) ON CONFLICT (customer_id) DO UPDATE"
                " SET doc = excluded.doc, updated_at = excluded.updated_at",
                (customer_id, json.dumps(doc), iso(utcnow())),
            )

        applied: bool = await self._backend.apply_once(event.get_id(), write)
        return applied
