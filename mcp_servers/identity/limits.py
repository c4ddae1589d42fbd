"""Counting what an attacker could repeat: wrong codes and sends, per identifier, method and customer.

One verification's attempt count alone invites a loop: guess three times, ask for a new code,
guess again. So failures and sends are counted in a one-hour window on three keys, across
verifications, resends, conversations and channels:

- the identifier typed (``id:`` + a keyed hash of it, so unknown identifiers count too and
  the table holds no contact details);
- the method: one customer's channel (``method:CUST-00001:sms``);
- the customer, across every channel (``customer:CUST-00001``), with a higher limit.

At the limit that key is locked for ``LOCK_SECONDS``. The trade-off, on purpose: an attacker who
knows a customer's email can lock *that identifier and that channel* for a while, at the cost of
``MAX_FAILURES`` audited guesses; the customer can still use another contact detail (another
identifier, another channel) until the customer-wide limit, and a human colleague always. A lock
that followed the customer everywhere would hand an attacker a cheap denial of service; a lock on
the attacker's conversation alone would let them guess on from a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

WINDOW_SECONDS = 3600
LOCK_SECONDS = 900
MAX_FAILURES = 5
"""Wrong codes per identifier or per method in the window: 5 guesses in 10^6 per lock period."""
MAX_CUSTOMER_FAILURES = 10
MAX_SENDS = 3
"""Codes sent per identifier or per method in the window (the first and two resends)."""

# The table is defined in ``tables.py`` beside this module's system and created by its revisions.


@dataclass(frozen=True, slots=True)
class Counter:
    key: str
    failures: int = 0
    sends: int = 0
    since: float = 0.0
    locked_until: float = 0.0

    def current(self, now: float) -> Counter:
        """The counter as of ``now``: a window that has passed starts afresh (a lock runs its course)."""
        if now - self.since >= WINDOW_SECONDS and self.locked_until <= now:
            return Counter(self.key, since=now)
        return self


def identifier_key(secret: bytes, kind: str, value: str) -> str:
    return "id:" + hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def method_key(customer_id: str, channel: str) -> str:
    return f"method:{customer_id}:{channel}"


def customer_key(customer_id: str) -> str:
    return f"customer:{customer_id}"


def failure_limit(key: str) -> int:
    return MAX_CUSTOMER_FAILURES if key.startswith("customer:") else MAX_FAILURES
