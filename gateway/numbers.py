"""Which customer a phone number belongs to, kept from events so a signal needs no remote lookup.

A network signal names a phone number; the gateway must know the customer to put on fraud
hold. Asking the identity system per signal costs an MCP round trip on the enforcement path,
so this projection remembers the answer and learns from events:

- ``identity.number-changed`` (``customer_id, msisdn, previous_msisdn``): the number moved;
- any event whose data names an ``msisdn`` and whose subject is the unified customer id
  (``billing.plan-changed``, ``billing.invoice-issued``): that number is that customer's now.

A customer has one number here, so learning a customer's new number forgets the old one: a
number that moved without an event is then a miss, never a wrong customer. On a miss the
identity system is asked (``lookup``) and the answer kept. Every replica keeps its own copy,
rebuilt from the stream on start (a fan-out consumer replays it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from shared.events import NUMBER_CHANGED, kind_of

Lookup = Callable[[str], Awaitable[str | None]]


class NumberDirectory:
    """msisdn -> unified customer id, from events, falling back to ``lookup`` on a miss."""

    def __init__(self, lookup: Lookup, *, max_entries: int = 1_000_000) -> None:
        self._lookup = lookup
        self._customer_of: dict[str, str] = {}
        self._number_of: dict[str, str] = {}
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._customer_of)

    def learn(self, msisdn: str, customer_id: str) -> None:
        """``msisdn`` is ``customer_id``'s number from now on (and no longer anyone else's)."""
        previous_number = self._number_of.get(customer_id)
        if previous_number is not None and previous_number != msisdn:
            self._customer_of.pop(previous_number, None)
        previous_owner = self._customer_of.get(msisdn)
        if previous_owner is not None and previous_owner != customer_id:
            self._number_of.pop(previous_owner, None)
        if len(self._customer_of) >= self._max and msisdn not in self._customer_of:
            # Bounded memory: drop the oldest entry (dicts keep insertion order); it becomes a miss.
            oldest = next(iter(self._customer_of))
            self._number_of.pop(self._customer_of.pop(oldest), None)
        self._customer_of[msisdn] = customer_id
        self._number_of[customer_id] = msisdn

    def forget(self, msisdn: str) -> None:
        owner = self._customer_of.pop(msisdn, None)
        if owner is not None and self._number_of.get(owner) == msisdn:
            del self._number_of[owner]

    def apply(self, event: CloudEvent) -> None:
        """Learn what ``event`` says about numbers, if anything."""
        data: Any = event.get_data()
        if not isinstance(data, dict):
            return
        if kind_of(event) == NUMBER_CHANGED:
            customer_id, msisdn, previous = data.get("customer_id"), data.get("msisdn"), data.get("previous_msisdn")
            if isinstance(previous, str):
                self.forget(previous)
            if isinstance(customer_id, str) and isinstance(msisdn, str) and msisdn:
                self.learn(msisdn, customer_id)
            return
        msisdn, subject = data.get("msisdn"), event.get_subject()
        if isinstance(msisdn, str) and msisdn and subject:
            self.learn(msisdn, subject)

    def known(self, msisdn: str) -> str | None:
        return self._customer_of.get(msisdn)

    async def customer(self, msisdn: str) -> str | None:
        """The customer ``msisdn`` belongs to, or None when the identity system knows no such number."""
        found = self._customer_of.get(msisdn)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        found = await self._lookup(msisdn)
        if found is not None:
            self.learn(msisdn, found)
        return found
