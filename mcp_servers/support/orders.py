"""Orders for devices, SIMs and accessories (keyed by email), kept by the support system.

Dates are live facts stored as ages (days before or after today, see ``_time``), so a seeded
order is always "ordered 3 days ago, arriving tomorrow" however old the dataset is. An order can be
cancelled or its delivery changed only while it is still being prepared; once with the courier it
can be refused at the door or returned instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import utcnow
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

DeliveryOption = Literal["standard", "next-day", "collect-in-store"]
DELIVERY_DAYS = {"standard": 3, "next-day": 1, "collect-in-store": 2}


class Order(BaseModel):
    order_id: str
    item: str
    status: str = Field(description="processing, dispatched, delivered or cancelled")
    ordered_on: str = Field(description="YYYY-MM-DD")
    expected_delivery: str | None = Field(description="YYYY-MM-DD; null once cancelled")
    delivery_option: str
    tracking_id: str | None = None
    can_change: bool = Field(description="still being prepared: can be cancelled or its delivery changed")


class Orders(BaseModel):
    orders: list[Order] = Field(description="newest first")


def _day(offset_days: int) -> str:
    return (utcnow() + timedelta(days=offset_days)).date().isoformat()


def _order(row: Any) -> Order:
    status = row["status"]
    return Order(
        order_id=row["order_id"],
        item=row["item"],
        status=status,
        ordered_on=_day(-row["ordered_days_ago"]),
        expected_delivery=None if status == "cancelled" else _day(row["delivery_in_days"]),
        delivery_option=row["delivery_option"],
        tracking_id=row["tracking_id"],
        can_change=status == "processing",
    )


class OrderBook(ReferenceBackend):
    """The order tools of the support system's reference backend."""

    async def _customer_order(self, email: str, order_id: str) -> Any:
        row = await self.fetchone(
            "SELECT * FROM orders WHERE order_id = ? AND email = ?", (order_id.upper(), email.lower())
        )
        if row is None:
            raise NotFound(f"no order {order_id} for this customer", hint="list the customer's orders first")
        return row

    async def list_orders(self, email: str) -> Orders:
        rows = await self.fetchall(
            "SELECT * FROM orders WHERE email = ? ORDER BY ordered_days_ago, order_id", (email.lower(),)
        )
        return Orders(orders=[_order(r) for r in rows])

    async def cancel_order(self, email: str, order_id: str, key: str, call: CallContext) -> Order:
        async def write() -> dict[str, Any]:
            row = await self._customer_order(email, order_id)
            if row["status"] != "processing":
                raise InvalidRequest(
                    f"order {row['order_id']} is {row['status']} and can no longer be cancelled",
                    hint="offer to refuse the delivery or return it within 14 days",
                )
            await self.execute(
                "UPDATE orders SET status = 'cancelled', agent = ?, audit_id = ?, conversation_id = ?"
                " WHERE order_id = ?",
                (call.agent, call.audit_id, call.conversation_id, row["order_id"]),
            )
            return _order({**dict(row), "status": "cancelled"}).model_dump()

        args = {"email": email.lower(), "order_id": order_id.upper()}
        return Order.model_validate(await self.idempotent("cancel_order", key, args, write))

    async def change_delivery(self, email: str, order_id: str, option: str, key: str, call: CallContext) -> Order:
        if option not in DELIVERY_DAYS:
            raise InvalidRequest(f"unknown delivery option {option!r}", hint=f"use one of {', '.join(DELIVERY_DAYS)}")

        async def write() -> dict[str, Any]:
            row = await self._customer_order(email, order_id)
            if row["status"] != "processing":
                raise InvalidRequest(
                    f"order {row['order_id']} is {row['status']}: its delivery can no longer be changed",
                    hint="the courier's tracking link offers a new day or a pick-up point",
                )
            days = DELIVERY_DAYS[option]
            await self.execute(
                "UPDATE orders SET delivery_option = ?, delivery_in_days = ?, agent = ?, audit_id = ?,"
                " conversation_id = ? WHERE order_id = ?",
                (option, days, call.agent, call.audit_id, call.conversation_id, row["order_id"]),
            )
            return _order({**dict(row), "delivery_option": option, "delivery_in_days": days}).model_dump()

        args = {"email": email.lower(), "order_id": order_id.upper(), "delivery_option": option}
        return Order.model_validate(await self.idempotent("change_delivery", key, args, write))
