"""The payments backend interface and its reference implementation (SQLite or PostgreSQL)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from mcp_servers._backend import pence, pounds, reads_together
from mcp_servers._database import Row
from mcp_servers._time import iso, utcnow
from mcp_servers.payments.methods import PaymentMethod, PaymentMethods
from mcp_servers.payments.models import Charge, Charges, DuplicateCharge, Duplicates, Refund, Refunds
from shared.errors import InvalidRequest, NotFound
from shared.events import PAYMENT_SETTLED, REFUND_ISSUED
from shared.tools import CallContext, RefundFacts


@dataclass(frozen=True)
class RefundRequest:
    account_number: str
    charge_id: str
    amount: float
    reason: str


class PaymentsBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def list_charges(self, account_number: str, limit: int) -> Charges: ...
    async def find_duplicate_charges(self, account_number: str) -> Duplicates: ...
    async def issue_refund(self, request: RefundRequest, key: str, call: CallContext) -> Refund: ...
    async def list_refunds(self, account_number: str) -> Refunds: ...
    async def refund_facts(self, account_number: str, charge_id: str) -> RefundFacts: ...
    async def record_payment(
        self, account_number: str, invoice_id: str, amount: float, key: str, call: CallContext
    ) -> Charge: ...
    async def get_payment_method(self, account_number: str) -> PaymentMethod: ...
    async def set_autopay(self, account_number: str, enabled: bool, key: str, call: CallContext) -> PaymentMethod: ...


FIRST_OF_INVOICE = "(SELECT f.charge_id FROM charges f WHERE f.invoice_id = c.invoice_id ORDER BY f.charged_at LIMIT 1)"
"""The earliest charge of charge ``c``'s invoice: the payment, of which every later one is a duplicate."""


def _status(row: Row) -> str:
    if row["refunded_pence"] == 0:
        return "settled"
    return "refunded" if row["refunded_pence"] >= row["amount_pence"] else "partially_refunded"


def _charge(row: Row) -> Charge:
    return Charge(
        charge_id=row["charge_id"],
        invoice_id=row["invoice_id"],
        amount=pounds(row["amount_pence"]),
        currency=row["currency"],
        charged_at=row["charged_at"],
        card_last4=row["card_last4"],
        status=_status(row),
        refunded_amount=pounds(row["refunded_pence"]),
    )


class ReferencePaymentsBackend(PaymentMethods):
    system = "payments"

    async def _require(self, account_number: str) -> None:
        if await self.fetchone("SELECT 1 FROM accounts WHERE account_number = ?", (account_number,)) is None:
            raise NotFound(
                f"no payments account {account_number}",
                hint="use the customer's account number, e.g. ACC-1234567",
            )

    @reads_together
    async def list_charges(self, account_number: str, limit: int) -> Charges:
        await self._require(account_number)
        rows = await self.fetchall(
            "SELECT * FROM charges WHERE account_number = ? ORDER BY charged_at DESC LIMIT ?",
            (account_number, limit),
        )
        return Charges(charges=[_charge(r) for r in rows])

    @reads_together
    async def find_duplicate_charges(self, account_number: str) -> Duplicates:
        await self._require(account_number)
        rows = await self.fetchall(
            f"SELECT c.*, {FIRST_OF_INVOICE} AS first_id"
            " FROM charges c WHERE c.account_number = ? AND c.refunded_pence < c.amount_pence"
            " ORDER BY c.charged_at DESC",
            (account_number,),
        )
        return Duplicates(
            duplicates=[
                DuplicateCharge(
                    charge_id=r["charge_id"],
                    duplicate_of=r["first_id"],
                    invoice_id=r["invoice_id"],
                    amount=pounds(r["amount_pence"]),
                    charged_at=r["charged_at"],
                    refundable_amount=pounds(r["amount_pence"] - r["refunded_pence"]),
                )
                for r in rows
                if r["first_id"] != r["charge_id"]
            ]
        )

    async def issue_refund(self, request: RefundRequest, key: str, call: CallContext) -> Refund:
        amount = pence(request.amount)

        async def write() -> dict[str, object]:
            await self._require(request.account_number)
            # Locked on PostgreSQL: two refunds of one charge (other keys, other replicas) queue here.
            row = await self.fetchone(
                f"SELECT * FROM charges WHERE charge_id = ? AND account_number = ?{self.lock_rows}",
                (request.charge_id, request.account_number),
            )
            if row is None:
                raise NotFound(
                    f"no charge {request.charge_id} on account {request.account_number}",
                    hint="list_charges or find_duplicate_charges give the charge ids",
                )
            refundable = row["amount_pence"] - row["refunded_pence"]
            if refundable <= 0:
                raise InvalidRequest(
                    f"charge {request.charge_id} is already fully refunded",
                    hint="list_refunds shows the refund",
                )
            if amount > refundable:
                raise InvalidRequest(
                    f"£{request.amount:.2f} is more than the £{pounds(refundable):.2f} still refundable"
                    f" on charge {request.charge_id}",
                    hint="refund at most the refundable amount",
                )
            refund = Refund(
                refund_id=f"RF-{secrets.token_hex(5).upper()}",
                charge_id=request.charge_id,
                amount=pounds(amount),
                status="succeeded",
                created_at=iso(utcnow()),
                reason=request.reason,
            )
            await self.execute(
                "UPDATE charges SET refunded_pence = refunded_pence + ? WHERE charge_id = ?",
                (amount, request.charge_id),
            )
            await self.execute(
                "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    refund.refund_id,
                    request.account_number,
                    request.charge_id,
                    amount,
                    request.reason,
                    refund.status,
                    refund.created_at,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            await self.emit(
                REFUND_ISSUED,
                {"account_number": request.account_number, **refund.model_dump()},
                subject=call.customer_id,
            )
            return refund.model_dump()

        if amount <= 0 or abs(amount - request.amount * 100) > 1e-6:
            raise InvalidRequest(
                f"refund amount {request.amount} is not a positive amount in pounds and pence",
                hint="send e.g. 12.50",
            )
        args = {**request.__dict__, "amount": amount}
        return Refund.model_validate(await self.idempotent("issue_refund", key, args, write))

    async def refund_facts(self, account_number: str, charge_id: str) -> RefundFacts:
        """One read for the gateway's refund policy: the charge, its flags, and today's refunds."""
        today = iso(utcnow())[:10]
        row = await self.fetchone(
            f"SELECT c.amount_pence, c.refunded_pence, {FIRST_OF_INVOICE} AS first_id,"
            " EXISTS (SELECT 1 FROM charge_flags g WHERE g.charge_id = c.charge_id) AS flagged,"
            " (SELECT COALESCE(SUM(r.amount_pence), 0) FROM refunds r"
            "   WHERE r.account_number = c.account_number AND r.created_at >= ?) AS today_pence"
            " FROM charges c WHERE c.charge_id = ? AND c.account_number = ?",
            (today, charge_id, account_number),
        )
        if row is None:
            await self._require(account_number)
            raise NotFound(
                f"no charge {charge_id} on account {account_number}",
                hint="list_charges or find_duplicate_charges give the charge ids",
            )
        return RefundFacts(
            charge_id=charge_id,
            # The earliest charge for an invoice is the payment; every later one is a duplicate.
            duplicate=row["first_id"] != charge_id,
            flagged_error=bool(row["flagged"]),
            refunded_on_charge=pounds(row["refunded_pence"]),
            refundable_amount=pounds(row["amount_pence"] - row["refunded_pence"]),
            refunded_today=pounds(row["today_pence"]),
        )

    @reads_together
    async def list_refunds(self, account_number: str) -> Refunds:
        await self._require(account_number)
        rows = await self.fetchall(
            "SELECT * FROM refunds WHERE account_number = ? ORDER BY created_at DESC", (account_number,)
        )
        return Refunds(
            refunds=[
                Refund(
                    refund_id=r["refund_id"],
                    charge_id=r["charge_id"],
                    amount=pounds(r["amount_pence"]),
                    status=r["status"],
                    created_at=r["created_at"],
                    reason=r["reason"],
                )
                for r in rows
            ]
        )

    async def record_payment(
        self, account_number: str, invoice_id: str, amount: float, key: str, call: CallContext
    ) -> Charge:
        """A card payment for an invoice settled (what the card processor reports)."""
        amount_pence = pence(amount)
        if amount_pence <= 0:
            raise InvalidRequest(f"payment amount {amount} is not positive", hint="send e.g. 25.00")

        async def write() -> dict[str, object]:
            await self._require(account_number)
            account = await self.fetchone("SELECT * FROM accounts WHERE account_number = ?", (account_number,))
            assert account is not None
            charge_id = f"CH-{secrets.token_hex(5).upper()}"
            charged_at = iso(utcnow())
            await self.execute(
                "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    charge_id,
                    account_number,
                    invoice_id,
                    amount_pence,
                    account["currency"],
                    charged_at,
                    account["card_last4"],
                ),
            )
            row = await self.fetchone("SELECT * FROM charges WHERE charge_id = ?", (charge_id,))
            assert row is not None
            charge = _charge(row)
            await self.emit(
                PAYMENT_SETTLED, {"account_number": account_number, **charge.model_dump()}, subject=call.customer_id
            )
            return charge.model_dump()

        args = {"account_number": account_number, "invoice_id": invoice_id, "amount": amount_pence}
        return Charge.model_validate(await self.idempotent("record_payment", key, args, write))
