"""support.list_devices and support.place_order: phones and SIMs on sale, and ordering one.

Added with ``switchboard new-tool``. The catalogue (``devices``, revision 0003) holds each item's
price and stock; an order joins the customer's order book (``orders``), so tracking, cancelling
and changing its delivery are ``track-order``'s tools as for any other order. The price is added
to the customer's next bill; payment details are never taken here.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend, pounds
from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    Email,
    IdempotencyKey,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.support.orders import DELIVERY_DAYS, DeliveryOption, Order, _order
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

ItemId = Annotated[str, Field(min_length=2, max_length=30, description="an item_id from list_devices")]
Kind = Literal["phone", "sim", "esim", "accessory"]


class Device(BaseModel):
    item_id: str
    name: str
    kind: Kind
    price: float = Field(description="pounds, added to the next bill")
    currency: str = "GBP"
    in_stock: bool


class Devices(BaseModel):
    devices: list[Device]
    delivery_options: dict[str, int] = Field(description="delivery option -> working days to arrive")


def _device(row: Any) -> Device:
    return Device(
        item_id=row["item_id"],
        name=row["name"],
        kind=row["kind"],
        price=pounds(row["price_pence"]),
        in_stock=bool(row["in_stock"]),
    )


async def read(backend: ReferenceBackend) -> Devices:
    rows = await backend.fetchall("SELECT * FROM devices ORDER BY kind, price_pence DESC, item_id")
    return Devices(devices=[_device(r) for r in rows], delivery_options=dict(DELIVERY_DAYS))


async def order(backend: ReferenceBackend, email: str, item_id: str, option: str, key: str, call: CallContext) -> Order:
    if option not in DELIVERY_DAYS:
        raise InvalidRequest(f"unknown delivery option {option!r}", hint=f"use one of {', '.join(DELIVERY_DAYS)}")

    async def write() -> dict[str, Any]:
        if await backend.fetchone("SELECT 1 FROM customers WHERE email = ?", (email.lower(),)) is None:
            raise NotFound(f"no customer with email {email}", hint="use the verified customer's email")
        row = await backend.fetchone("SELECT * FROM devices WHERE item_id = ?", (item_id.upper(),))
        if row is None:
            raise NotFound(f"no item {item_id} on sale", hint="list the devices first")
        if not row["in_stock"]:
            raise InvalidRequest(f"{row['name']} is out of stock", hint="offer another item")
        order_id = f"ORD-{secrets.randbelow(900_000) + 100_000}"
        days = DELIVERY_DAYS[option]
        placed = {
            "order_id": order_id,
            "email": email.lower(),
            "item": row["name"],
            "status": "processing",
            "ordered_days_ago": 0,
            "delivery_in_days": days,
            "delivery_option": option,
            "tracking_id": None,
        }
        await backend.execute(
            "INSERT INTO orders (order_id, email, item, status, ordered_days_ago, delivery_in_days, delivery_option,"
            " tracking_id, agent, audit_id, conversation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*placed.values(), call.agent, call.audit_id, call.conversation_id),
        )
        return _order(placed).model_dump()

    args = {"email": email.lower(), "item_id": item_id.upper(), "delivery_option": option}
    return Order.model_validate(await backend.idempotent("place_order", key, args, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="list_devices", annotations=READ_ONLY, meta=tool_meta())
    async def list_devices() -> Devices:
        """Phones, SIMs, eSIMs and accessories on sale, with prices, stock and delivery options."""
        return await act(read(backend))

    @server.tool(name="place_order", annotations=IDEMPOTENT_WRITE, meta=tool_meta("email", "email"))
    async def place_order(
        email: Email, item_id: ItemId, delivery_option: DeliveryOption, idempotency_key: IdempotencyKey, ctx: Context
    ) -> Order:
        """Order an item for the customer (price added to the next bill); it then shows in list_orders."""
        return await act(order(backend, email, item_id, delivery_option, idempotency_key, require_call_context(ctx)))
