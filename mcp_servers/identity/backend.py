"""The identity backend interface and its reference implementation (SQLite or PostgreSQL).

One-time codes are six digits from ``secrets``, stored only as a hash, valid 10 minutes, with
three attempts per verification; the third wrong code locks the customer out of verification
for 15 minutes. Only this system signs auth contexts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._backend import ReferenceBackend
from mcp_servers._database import Row
from mcp_servers.identity.hints import find_keys, mask_email, mask_msisdn
from mcp_servers.identity.models import (
    Destinations,
    ResolvedCustomer,
    SignalContext,
    VerificationResult,
    VerificationStarted,
)
from mcp_servers.identity.outbox import append_message
from mcp_servers.identity.schema import SCHEMA
from shared.authcontext import AuthContextSigner
from shared.database import DatabaseURL
from shared.envelope import CustomerKeys, CustomerRef
from shared.errors import InvalidRequest, NotFound
from shared.events import SIGNAL_KINDS, SIM_SWAPPED, data_of, kind_of

CODE_TTL_SECONDS = 600
ATTEMPTS = 3
LOCKOUT_SECONDS = 900
ASSURANCE = "AAL2"
SIGNAL_CONTEXT_SECONDS = 300
SIGNAL_CONTEXT_MAX_AGE_SECONDS = 3600
SIGNAL_ASSURANCE = "AAL0"
_KEY_COLUMNS = ("customer_id", "account_number", "email", "msisdn")


class IdentityBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def resolve_customer(self, hint: str) -> ResolvedCustomer: ...
    async def start_verification(self, customer_id: str, channel: str, conversation_id: str) -> VerificationStarted: ...
    async def verify_code(
        self, customer_id: str, verification_id: str, code: str, conversation_id: str
    ) -> VerificationResult: ...
    async def issue_signal_context(self, signal_id: str, conversation_id: str) -> SignalContext: ...


def _keys(row: Row) -> CustomerKeys:
    return CustomerKeys(
        customer_id=row["customer_id"], email=row["email"], msisdn=row["msisdn"], account_number=row["account_number"]
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code_hash(verification_id: str, code: str) -> str:
    return hashlib.sha256(f"{verification_id}:{code}".encode()).hexdigest()


class ReferenceIdentityBackend(ReferenceBackend):
    schema = SCHEMA
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
        self._outbox_dir = Path(outbox_dir)
        self._clock = clock

    async def _customer(self, customer_id: str) -> Row:
        row = await self.fetchone("SELECT * FROM customers WHERE customer_id = ?", (customer_id,))
        if row is None:
            raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
        return row

    async def _locked_until(self, customer_id: str, now: float) -> float | None:
        row = await self.fetchone("SELECT locked_until FROM lockouts WHERE customer_id = ?", (customer_id,))
        return row["locked_until"] if row is not None and row["locked_until"] > now else None

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

    async def start_verification(self, customer_id: str, channel: str, conversation_id: str) -> VerificationStarted:
        row = await self._customer(customer_id)
        now = self._clock()
        if (until := await self._locked_until(customer_id, now)) is not None:
            raise InvalidRequest(
                f"verification is locked for this customer until {_iso(until)} after three wrong codes",
                hint="offer a human agent or ask the customer to try again later",
            )
        if channel == "sms" and (step_up := await self._step_up(customer_id)) is not None:
            raise InvalidRequest(
                f"{step_up['reason']} (signal {step_up['signal_id']} at {step_up['since']}): "
                "a code by text message cannot prove who this is",
                hint="send the code by email instead",
            )
        verification_id = f"VER-{secrets.token_hex(8)}"
        code = f"{secrets.randbelow(1_000_000):06d}"
        to = row["msisdn"] if channel == "sms" else row["email"]
        expires = now + CODE_TTL_SECONDS
        await self.transaction(
            lambda: self.execute(
                "INSERT INTO verifications VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    verification_id,
                    customer_id,
                    channel,
                    _code_hash(verification_id, code),
                    expires,
                    ATTEMPTS,
                    conversation_id,
                ),
            ),
            "starting a verification",
        )
        message = {
            "at": _iso(now),
            "customer_id": customer_id,
            "channel": channel,
            "to": to,
            "text": f"Your Northwind Mobile verification code is {code}. It expires in 10 minutes. "
            "We will never ask you to share it.",
        }
        await asyncio.to_thread(append_message, self._outbox_dir, message)
        return VerificationStarted(
            verification_id=verification_id,
            sent_to=mask_msisdn(to) if channel == "sms" else mask_email(to),
            expires_at=_iso(expires),
            attempts_left=ATTEMPTS,
        )

    async def verify_code(
        self, customer_id: str, verification_id: str, code: str, conversation_id: str
    ) -> VerificationResult:
        code = re.sub(r"[\s-]", "", code)
        return await self.transaction(
            lambda: self._verify(customer_id, verification_id, code, conversation_id), "checking a code"
        )

    async def _verify(
        self, customer_id: str, verification_id: str, code: str, conversation_id: str
    ) -> VerificationResult:
        # Locked on PostgreSQL: two replicas checking codes of one verification take turns.
        row = await self.fetchone(
            f"SELECT * FROM verifications WHERE verification_id = ? AND customer_id = ?{self.lock_rows}",
            (verification_id, customer_id),
        )
        if row is None or row["conversation_id"] != conversation_id:
            raise NotFound(
                f"no verification {verification_id} for {customer_id} in this conversation",
                hint="start a new verification",
            )
        now = self._clock()
        if (until := await self._locked_until(customer_id, now)) is not None:
            return VerificationResult(verified=False, attempts_left=0, locked=True, locked_until=_iso(until))
        if row["status"] != "pending" or row["attempts_left"] <= 0:
            raise InvalidRequest(
                f"verification {verification_id} is already {row['status']}", hint="start a new verification"
            )
        if row["expires_at"] <= now:
            raise InvalidRequest("the code has expired", hint="start a new verification")
        if hmac.compare_digest(row["code_hash"], _code_hash(verification_id, code)):
            await self.execute(
                "UPDATE verifications SET status = 'verified' WHERE verification_id = ?", (verification_id,)
            )
            # The step-up is satisfied by a code through a channel the SIM does not control.
            cleared = 0
            if row["channel"] != "sms":
                cleared = await self.execute("DELETE FROM step_ups WHERE customer_id = ?", (customer_id,))
            return self._verified(
                await self._customer(customer_id),
                row["channel"],
                row["attempts_left"],
                conversation_id,
                now,
                step_up=cleared > 0,
            )
        left = row["attempts_left"] - 1
        locked_until = now + LOCKOUT_SECONDS if left == 0 else None
        await self.execute(
            "UPDATE verifications SET attempts_left = ?, status = ? WHERE verification_id = ?",
            (left, "failed" if left == 0 else "pending", verification_id),
        )
        if locked_until is not None:
            await self.execute(
                "INSERT INTO lockouts VALUES (?, ?) ON CONFLICT (customer_id) DO UPDATE SET locked_until = ?",
                (customer_id, locked_until, locked_until),
            )
        return VerificationResult(
            verified=False,
            attempts_left=left,
            locked=locked_until is not None,
            locked_until=_iso(locked_until) if locked_until is not None else None,
        )

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
        keys = _keys(row)
        method = f"otp-{channel}-step-up" if step_up else f"otp-{channel}"
        token = self._signer.issue(keys, method=method, assurance=ASSURANCE, conversation_id=conversation_id, now=now)
        return VerificationResult(
            verified=True,
            attempts_left=attempts_left,
            locked=False,
            auth_context=token,
            auth_context_expires_at=_iso(int(now) + self._ttl),
            customer=CustomerRef(keys=keys, display_name=row["first_name"]),
        )

    async def _step_up(self, customer_id: str) -> Row | None:
        return await self.fetchone("SELECT * FROM step_ups WHERE customer_id = ?", (customer_id,))

    async def apply_signal(self, event: CloudEvent) -> bool:
        """Remember a network signal about one of our customers; a SIM swap demands a step-up."""
        kind = kind_of(event)
        data = data_of(event)
        if kind not in SIGNAL_KINDS or not data.get("msisdn") or not data.get("signal_id"):
            return False
        row = await self.fetchone("SELECT customer_id FROM customers WHERE msisdn = ?", (data["msisdn"],))
        if row is None:
            return False
        customer_id, at = row["customer_id"], str(data.get("occurred_at") or _iso(self._clock()))

        async def write() -> None:
            await self.execute(
                "INSERT INTO signals_seen VALUES (?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING",
                (data["signal_id"], kind, customer_id, at),
            )
            if kind == SIM_SWAPPED:
                await self.execute(
                    "INSERT INTO step_ups VALUES (?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE"
                    " SET reason = excluded.reason, signal_id = excluded.signal_id, since = excluded.since",
                    (customer_id, "the SIM card of this number was swapped", data["signal_id"], at),
                )

        return await self.apply_once(event.get_id(), write)

    async def issue_signal_context(self, signal_id: str, conversation_id: str) -> SignalContext:
        """A short, lowest-assurance auth context for proactive care about a signal we received."""
        seen = await self.fetchone("SELECT * FROM signals_seen WHERE signal_id = ?", (signal_id,))
        if seen is None:
            raise NotFound(
                f"no network signal {signal_id} was received for any customer",
                hint="proactive care acts only on signals the identity system has recorded",
            )
        now = self._clock()
        if datetime.fromisoformat(seen["occurred_at"].replace("Z", "+00:00")).timestamp() < now - (
            SIGNAL_CONTEXT_MAX_AGE_SECONDS
        ):
            raise InvalidRequest(f"signal {signal_id} is over an hour old", hint="act on current signals only")
        keys = _keys(await self._customer(seen["customer_id"]))
        token = self._signal_signer.issue(
            keys, method="network-signal", assurance=SIGNAL_ASSURANCE, conversation_id=conversation_id, now=now
        )
        return SignalContext(
            customer_id=keys.customer_id,
            customer=CustomerRef(keys=keys),
            auth_context=token,
            expires_at=_iso(int(now) + SIGNAL_CONTEXT_SECONDS),
        )
