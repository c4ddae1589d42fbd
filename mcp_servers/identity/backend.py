"""The identity backend interface and its reference implementation (SQLite or PostgreSQL).

One-time codes are six digits from ``secrets``, stored only as a keyed hash (HMAC with a key
derived from the identity signing key: a stolen database alone cannot brute-force the 10^6
codes), valid 10 minutes, three attempts per code. Wrong codes and sends are also counted per
identifier, method and customer across verifications, resends and conversations (``limits``).

Before verification nothing a caller sees depends on whether the identifier exists: a
verification is started for any well-formed identifier (one that matches no customer gets a
challenge no code can pass, and nothing is sent), answers name no contact detail, and locks
and limits apply to unknown identifiers alike. Only this system signs auth contexts.

Contact details (``contact``), sign-in links (``sign_in``) and network signals (``signals``)
live beside this module; the backend's methods for them delegate there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._backend import ReferenceBackend
from mcp_servers._database import Row
from mcp_servers.identity import contact, limits, sign_in, signals
from mcp_servers.identity.contact import ContactDetails, PostalAddress
from mcp_servers.identity.hints import find_keys, mask_email, mask_msisdn
from mcp_servers.identity.models import (
    Destinations,
    ResolvedCustomer,
    SignalContext,
    SignInLinkSent,
    VerificationResult,
    VerificationStarted,
)
from mcp_servers.identity.outbox import append_message
from mcp_servers.identity.records import customer_keys, iso_seconds
from mcp_servers.identity.signals import SIGNAL_CONTEXT_SECONDS
from shared.authcontext import AuthContextSigner
from shared.database import DatabaseURL
from shared.envelope import CustomerRef
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

CODE_TTL_SECONDS = 600
ATTEMPTS = 3
ASSURANCE = "AAL2"
_KEY_COLUMNS = ("customer_id", "account_number", "email", "msisdn")


class IdentityBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def resolve_customer(self, hint: str) -> ResolvedCustomer: ...
    async def start_verification(self, identifier: str, channel: str, conversation_id: str) -> VerificationStarted: ...
    async def verify_code(self, verification_id: str, code: str, conversation_id: str) -> VerificationResult: ...
    async def issue_signal_context(self, signal_id: str, conversation_id: str) -> SignalContext: ...
    async def get_contact_details(self, customer_id: str) -> ContactDetails: ...
    async def update_contact_details(
        self, customer_id: str, email: str, key: str, call: CallContext
    ) -> ContactDetails: ...
    async def update_postal_address(
        self, customer_id: str, address: PostalAddress, key: str, call: CallContext
    ) -> ContactDetails: ...
    async def send_sign_in_link(
        self, customer_id: str, purpose: str, key: str, call: CallContext
    ) -> SignInLinkSent: ...


def _code_hash(secret: bytes, verification_id: str, code: str) -> str:
    return hmac.new(secret, f"{verification_id}:{code}".encode(), hashlib.sha256).hexdigest()


# One wording whatever the channel: naming it would tell an unknown phone number (text message)
# from a known one whose SIM was swapped (email instead).
SENT_TO = "the email address or mobile number on the account"
_CHANNELS = ("sms", "email")
OTHER_WAYS = ["another contact detail on the account (email address or mobile number)", "a human colleague"]
_PAUSED = (
    "for security, no code can be sent or checked for these details right now after too many attempts; "
    "nothing here says whether they match an account"
)
_PAUSED_HINT = "offer another contact detail on the account, or a human colleague"


@dataclass(frozen=True, slots=True)
class _Passed:
    """A code that matched, committed as used: what the auth context is then signed for."""

    customer_id: str
    channel: str
    attempts_left: int
    now: float
    step_up: bool


class ReferenceIdentityBackend(ReferenceBackend):
    system = "identity"

    def __init__(
        self,
        where: Path | DatabaseURL,
        *,
        private_pem: str,
        ttl_seconds: int,
        outbox_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(where)
        self._signer = AuthContextSigner(private_pem.encode(), ttl_seconds=ttl_seconds)
        self._signal_signer = AuthContextSigner(private_pem.encode(), ttl_seconds=SIGNAL_CONTEXT_SECONDS)
        self._ttl = ttl_seconds
        # Keys the code hashes and identifier hashes: derived, so nothing new needs storing.
        self._secret = hashlib.sha256(b"switchboard-otp\0" + private_pem.encode()).digest()
        self._outbox_dir = Path(outbox_dir)
        self._clock = clock

    async def get_contact_details(self, customer_id: str) -> ContactDetails:
        return await contact.get_contact_details(self, customer_id)

    async def update_contact_details(self, customer_id: str, email: str, key: str, call: CallContext) -> ContactDetails:
        return await contact.update_contact_details(self, customer_id, email, key, call)

    async def update_postal_address(
        self, customer_id: str, address: PostalAddress, key: str, call: CallContext
    ) -> ContactDetails:
        return await contact.update_postal_address(self, customer_id, address, key, call)

    async def _customer(self, customer_id: str) -> Row:
        row = await self.fetchone("SELECT * FROM customers WHERE customer_id = ?", (customer_id,))
        if row is None:
            raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
        return row

    async def resolve_customer(self, hint: str) -> ResolvedCustomer:
        keys = find_keys(hint)
        if not keys:
            raise InvalidRequest(
                "no email address, mobile number, account number or customer id in what the customer said",
                hint="ask for the email address or mobile number on the account",
            )
        for kind, value in keys:
            if kind not in _KEY_COLUMNS:
                continue
            row = await self.fetchone(f"SELECT * FROM customers WHERE {kind} = ?", (value,))
            if row is not None:
                step_up = await self._step_up(row["customer_id"])
                return ResolvedCustomer(
                    customer_id=row["customer_id"],
                    display_name=row["first_name"],
                    # After a SIM swap the number may be in someone else's hands: offer no text message.
                    destinations=Destinations(
                        sms=None if step_up else mask_msisdn(row["msisdn"]), email=mask_email(row["email"])
                    ),
                    step_up_required=step_up is not None,
                )
        raise NotFound(
            "no customer matches those details",
            hint="ask for the email address or mobile number on the account",
        )

    async def _counters(self, keys: list[str], now: float) -> list[limits.Counter]:
        """The counters of ``keys``, in that order, read (and locked on PostgreSQL) in one statement:
        each statement inside a write transaction is a round trip made while the write is held."""
        marks = ", ".join("?" for _ in keys)
        rows = await self.fetchall(f"SELECT * FROM verify_limits WHERE key IN ({marks}){self.lock_rows}", keys)
        found = {row["key"]: row for row in rows}
        counters = []
        for key in keys:
            row = found.get(key)
            if row is None:
                counters.append(limits.Counter(key, since=now))
            else:
                counters.append(
                    limits.Counter(key, row["failures"], row["sends"], row["since"], row["locked_until"]).current(now)
                )
        return counters

    async def _save(self, counters: list[limits.Counter]) -> None:
        await self.executemany(
            "INSERT INTO verify_limits VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
            " failures = excluded.failures, sends = excluded.sends, since = excluded.since,"
            " locked_until = excluded.locked_until",
            [(c.key, c.failures, c.sends, c.since, c.locked_until) for c in counters],
        )

    def _keys_for(self, id_key: str, customer_id: str | None, channel: str) -> list[str]:
        if customer_id is None:
            return [id_key]
        return [id_key, limits.method_key(customer_id, channel), limits.customer_key(customer_id)]

    async def start_verification(self, identifier: str, channel: str, conversation_id: str) -> VerificationStarted:
        found = [(k, v) for k, v in find_keys(identifier) if k in _KEY_COLUMNS]
        if not found:
            raise InvalidRequest(
                "no email address, mobile number, account number or customer id in those details",
                hint="ask for the email address or mobile number on the account",
            )
        kind, value = found[0]
        started, delivery = await self.transaction(
            lambda: self._start(kind, value, channel, conversation_id), "starting a verification"
        )
        if delivery is not None:
            # Sent once the challenge is committed: never a code for a challenge that was rolled
            # back, and the message is written without holding up every other verification's write.
            await self._deliver(*delivery)
        return started

    async def _start(
        self, kind: str, value: str, channel: str, conversation_id: str
    ) -> tuple[VerificationStarted, tuple[Row, str, str, float] | None]:
        now = self._clock()
        # The customer and whether a SIM swap left a step-up pending, in one statement.
        row = await self.fetchone(
            "SELECT c.*, EXISTS (SELECT 1 FROM step_ups s WHERE s.customer_id = c.customer_id) AS step_up"
            f" FROM customers c WHERE c.{kind} = ?",
            (value,),
        )
        if channel not in _CHANNELS:  # "any": the channel the identifier names, else a text message
            channel = "email" if kind == "email" else "sms"
        if channel == "sms" and row is not None and row["step_up"]:
            channel = "email"  # after a SIM swap a text message proves nothing; said to no one
        id_key = limits.identifier_key(self._secret, kind, value)
        customer_id = row["customer_id"] if row is not None else None
        counters = await self._counters(self._keys_for(id_key, customer_id, channel), now)
        if any(c.locked_until > now or c.sends >= limits.MAX_SENDS for c in counters):
            raise InvalidRequest(_PAUSED, hint=_PAUSED_HINT)
        await self._save([replace(c, sends=c.sends + 1) for c in counters])
        verification_id = f"VER-{secrets.token_hex(8)}"
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires = now + CODE_TTL_SECONDS
        await self.execute(
            "INSERT INTO otp_challenges VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            (
                verification_id,
                id_key,
                customer_id,
                channel,
                _code_hash(self._secret, verification_id, code) if row is not None else None,
                expires,
                ATTEMPTS,
                conversation_id,
            ),
        )
        started = VerificationStarted(
            verification_id=verification_id, sent_to=SENT_TO, expires_at=iso_seconds(expires), attempts_left=ATTEMPTS
        )
        return started, ((row, channel, code, now) if row is not None else None)

    async def _deliver(self, row: Row, channel: str, code: str, now: float) -> None:
        message = {
            "at": iso_seconds(now),
            "customer_id": row["customer_id"],
            "channel": channel,
            "to": row["msisdn"] if channel == "sms" else row["email"],
            "text": f"Your Northwind Mobile verification code is {code}. It expires in 10 minutes. "
            "We will never ask you to share it.",
        }
        # After the commit, outside any transaction: the file append goes to a worker thread.
        await asyncio.to_thread(append_message, self._outbox_dir, message)

    async def send_sign_in_link(self, customer_id: str, purpose: str, key: str, call: CallContext) -> SignInLinkSent:
        return await sign_in.send_sign_in_link(self, customer_id, purpose, key, call)

    async def verify_code(self, verification_id: str, code: str, conversation_id: str) -> VerificationResult:
        code = re.sub(r"[\s-]", "", code)
        checked = await self.transaction(
            lambda: self._verify(verification_id, code, conversation_id), "checking a code"
        )
        if isinstance(checked, VerificationResult):
            return checked
        # The code is used up and that is committed; only then is the auth context signed, and
        # neither the customer read nor the signature holds up other verifications' writes.
        return self._verified(
            await self._customer(checked.customer_id),
            checked.channel,
            checked.attempts_left,
            conversation_id,
            checked.now,
            step_up=checked.step_up,
        )

    async def _verify(self, verification_id: str, code: str, conversation_id: str) -> VerificationResult | _Passed:
        # Locked on PostgreSQL: two replicas checking codes of one verification take turns.
        row = await self.fetchone(
            f"SELECT * FROM otp_challenges WHERE verification_id = ?{self.lock_rows}", (verification_id,)
        )
        if row is None or row["conversation_id"] != conversation_id:
            raise NotFound(f"no verification {verification_id} in this conversation", hint="start a new verification")
        now = self._clock()
        if row["status"] != "pending" or row["attempts_left"] <= 0:
            raise InvalidRequest(
                f"verification {verification_id} is already {row['status']}", hint="start a new verification"
            )
        if row["expires_at"] <= now:
            raise InvalidRequest("the code has expired", hint="start a new verification")
        customer_id = row["customer_id"]
        counters = await self._counters(self._keys_for(row["id_key"], customer_id, row["channel"]), now)
        if (until := max(c.locked_until for c in counters)) > now:
            return VerificationResult(
                verified=False, attempts_left=0, locked=True, locked_until=iso_seconds(until), other_ways=OTHER_WAYS
            )
        expected = row["code_hash"] or _code_hash(self._secret, verification_id, "never")
        if customer_id is not None and hmac.compare_digest(expected, _code_hash(self._secret, verification_id, code)):
            return await self._passed(row, counters, now)
        left = row["attempts_left"] - 1
        counted = [replace(c, failures=c.failures + 1) for c in counters]
        locked = [c for c in counted if c.failures >= limits.failure_limit(c.key)]
        until = now + limits.LOCK_SECONDS
        await self._save([replace(c, locked_until=until) if c in locked else c for c in counted])
        await self.execute(
            "UPDATE otp_challenges SET attempts_left = ?, status = ? WHERE verification_id = ?",
            (0 if locked else left, "failed" if locked or left == 0 else "pending", verification_id),
        )
        # What the caller is told depends only on what it did with this identifier, never on the customer.
        id_left = limits.MAX_FAILURES - counted[0].failures
        return VerificationResult(
            verified=False,
            attempts_left=0 if locked else max(min(left, id_left), 0),
            locked=bool(locked),
            locked_until=iso_seconds(until) if locked else None,
            other_ways=OTHER_WAYS if locked or left == 0 else [],
        )

    async def _passed(self, row: Row, counters: list[limits.Counter], now: float) -> _Passed:
        await self.execute(
            "UPDATE otp_challenges SET status = 'verified' WHERE verification_id = ?", (row["verification_id"],)
        )
        # The customer proved it: earlier wrong guesses no longer count.
        await self._save([replace(c, failures=0) for c in counters])
        customer_id = row["customer_id"]
        # The step-up is satisfied by a code through a channel the SIM does not control.
        cleared = 0
        if row["channel"] != "sms":
            cleared = await self.execute("DELETE FROM step_ups WHERE customer_id = ?", (customer_id,))
        return _Passed(customer_id, row["channel"], row["attempts_left"], now, step_up=cleared > 0)

    def _verified(
        self,
        row: Row,
        channel: str,
        attempts_left: int,
        conversation_id: str,
        now: float,
        *,
        step_up: bool = False,
    ) -> VerificationResult:
        keys = customer_keys(row)
        method = f"otp-{channel}-step-up" if step_up else f"otp-{channel}"
        token = self._signer.issue(keys, method=method, assurance=ASSURANCE, conversation_id=conversation_id, now=now)
        return VerificationResult(
            verified=True,
            attempts_left=attempts_left,
            locked=False,
            auth_context=token,
            auth_context_expires_at=iso_seconds(int(now) + self._ttl),
            customer=CustomerRef(keys=keys, display_name=row["first_name"]),
        )

    async def _step_up(self, customer_id: str) -> Row | None:
        return await self.fetchone("SELECT * FROM step_ups WHERE customer_id = ?", (customer_id,))

    async def apply_signal(self, event: CloudEvent) -> bool:
        return await signals.apply_signal(self, event)

    async def issue_signal_context(self, signal_id: str, conversation_id: str) -> SignalContext:
        return await signals.issue_signal_context(self, signal_id, conversation_id)
