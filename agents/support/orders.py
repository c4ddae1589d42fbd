"""``track-order``: where an order is, and cancelling it or changing its delivery while it is prepared.

One turn. The customer's words pick the order (its reference, else the newest one not yet
delivered) and what to do: cancel, switch to next-day or collect-in-store, or just track it.
An order already with the courier cannot be changed; the customer is told what they can do instead.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import one_step
from agents.runtime.text import day

_ORDER_ID = re.compile(r"\bORD-?(\d{3,})\b", re.IGNORECASE)
_CANCEL = re.compile(r"\b(cancel\w*|don'?t want (it|the order)|stop (the|my) order)\b", re.IGNORECASE)
_NEXT_DAY = re.compile(r"\b(next[ -]?day|tomorrow|faster|express|quicker)\b", re.IGNORECASE)
_COLLECT = re.compile(
    r"\b(collect\w*|pick(ing)? ?(it )?up|click and collect|in store|from (a|the) (shop|store))\b", re.I
)


def _pick(orders: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    named = _ORDER_ID.search(text)
    if named:
        wanted = f"ORD-{named.group(1)}"
        return next((o for o in orders if o.get("order_id") == wanted), None)
    live = [o for o in orders if o.get("status") in ("processing", "dispatched")]
    pool = live or orders
    return pool[0] if pool else None


def _where(order: dict[str, Any]) -> str:
    status = order.get("status")
    ref = f"{order.get('item')} (order {order.get('order_id')})"
    if status == "processing":
        return f"Your {ref} is being prepared and should arrive by {day(order.get('expected_delivery'))}."
    if status == "dispatched":
        return (
            f"Your {ref} is with the courier, due {day(order.get('expected_delivery'))}; "
            f"the tracking number is {order.get('tracking_id')}."
        )
    if status == "delivered":
        return f"Your {ref} was delivered on {day(order.get('expected_delivery'))}."
    return f"Your {ref} was cancelled."


async def track_order(turn: Turn) -> Reply:
    assert turn.keys is not None
    email = turn.keys.email
    text = f"{turn.handoff.reason} {turn.text}"
    orders = (await turn.call("support.list_orders", {"email": email})).get("orders") or []
    order = _pick(orders, text)
    if order is None:
        message = "I can't find that order on your account." if orders else "I can't see any orders on your account."
        return turn.reply(
            message + " If you ordered in a shop or with another email address, a colleague can look it up.",
            "completed",
            summary="no matching order",
            data={"order_id": None},
        )
    action = "cancel" if _CANCEL.search(text) else "next-day" if _NEXT_DAY.search(text) else None
    action = action or ("collect-in-store" if _COLLECT.search(text) else None)
    done = None
    if action is not None and order.get("can_change"):
        args = {"email": email, "order_id": order["order_id"]}
        if action == "cancel":
            order = await turn.call("support.cancel_order", args, step=f"cancel-order:{order['order_id']}")
            done = f"I've cancelled your {order.get('item')} (order {order.get('order_id')}); nothing will be sent."
        else:
            order = await turn.call(
                "support.change_delivery",
                {**args, "delivery_option": action},
                step=f"delivery:{order['order_id']}:{action}",
            )
            how = "by next-day delivery" if action == "next-day" else "to collect in store"
            done = (
                f"Done: your {order.get('item')} (order {order.get('order_id')}) now comes {how}, "
                f"by {day(order.get('expected_delivery'))}."
            )
    elif action is not None:
        done = _where(order) + (
            " It's already on its way, so it can't be changed now: you can refuse it at the door or return it "
            "within 14 days for a refund."
            if order.get("status") == "dispatched"
            else " It can't be changed any more."
        )
    text_out = done or _where(order)
    if done is None and order.get("can_change"):
        text_out += " I can still cancel it or switch it to next-day delivery or collection in store if you'd like."
    summary = f"order {order.get('order_id')} {order.get('status')}" + (f", {action}" if action else "")
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text_out,
        "completed",
        summary=summary,
        data={"order_id": order.get("order_id"), "status": order.get("status"), "action": action},
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(track_order, verified=("email",))
