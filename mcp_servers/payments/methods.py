"""The card on file and automatic payment (autopay), by account number.

Card numbers never pass through a conversation: the customer changes their card in the app or on
the website; the assistant can only say which card is on file, whether it has expired, and switch
autopay on or off.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import utcnow
from shared.errors import NotFound
from shared.tools import CallContext


class PaymentMethod(BaseModel):
    account_number: str
    card_last4: str
    card_expiry: str = Field(description="YYYY-MM: the card works until the end of that month")
    card_expired: bool
    autopay: bool = Field(description="each invoice is charged to the card on file when it is issued")


def _method(row: Any) -> PaymentMethod:
    today = utcnow().date()
    return PaymentMethod(
        account_number=row["account_number"],
        card_last4=row["card_last4"],
        card_expiry=row["card_expiry"],
        card_expired=row["card_expiry"] < f"{today.year:04d}-{today.month:02d}",
        autopay=bool(row["autopay"]),
    )


class PaymentMethods(ReferenceBackend):
    """The payment-method tools of the payments system's reference backend."""

    async def _method_row(self, account_number: str) -> Any:
        row = await self.fetchone("SELECT * FROM payment_methods WHERE account_number = ?", (account_number,))
        if row is None:
            raise NotFound(
                f"no payment method on file for {account_number}",
                hint="use the customer's account number, e.g. ACC-1234567",
            )
        return row

    async def get_payment_method(self, account_number: str) -> PaymentMethod:
        return _method(await self._method_row(account_number))

    async def set_autopay(self, account_number: str, enabled: bool, key: str, call: CallContext) -> PaymentMethod:
        async def write() -> dict[str, Any]:
            row = await self._method_row(account_number)
            await self.execute(
                "UPDATE payment_methods SET autopay = ?, updated_by = ?, audit_id = ? WHERE account_number = ?",
                (int(enabled), call.agent, call.audit_id, account_number),
            )
            return _method({**dict(row), "autopay": int(enabled)}).model_dump()

        args = {"account_number": account_number, "enabled": enabled}
        return PaymentMethod.model_validate(await self.idempotent("set_autopay", key, args, write))
