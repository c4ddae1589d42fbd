"""``track-order``: where an order is, and cancelling it or changing its delivery while it is prepared.

    verify -> look -> wait (the change proposed) -> confirm (yes/no) -> change

The customer's words pick the order (its reference, else the newest one not yet delivered) and
what to do: cancel, switch to next-day or collect-in-store, or just track it. Tracking is one turn
in the SKILL.md step ``look``, which only reads. A change is proposed there and made in the step
``change`` on the turn the customer says yes, after reading the order again (it may have left the
warehouse meanwhile). An order already with the courier cannot be changed; the customer is told
what they can do instead.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Reply, Turn
from agents.runtime.graph import SkillContext, SkillState, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, WAIT_NODE, Prompt, in_step, say_then_wait, verified_first, wait
from agents.runtime.text import day
from shared.yes_no import yes_no

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


class OrderState(SkillState, total=False):
    order_id: str
    action: str
    prompt: Prompt


def _action(text: str) -> str | None:
    if _CANCEL.search(text):
        return "cancel"
    if _NEXT_DAY.search(text):
        return "next-day"
    return "collect-in-store" if _COLLECT.search(text) else None


def _change_phrase(action: str, order: dict[str, Any]) -> str:
    ref = f"your {order.get('item')} (order {order.get('order_id')})"
    if action == "cancel":
        return f"cancel {ref}"
    return f"switch {ref} to {'next-day delivery' if action == 'next-day' else 'collection in store'}"


async def look(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    assert turn.keys is not None
    text = f"{turn.handoff.reason} {turn.text}"
    orders = (await turn.call("support.list_orders", {"email": turn.keys.email})).get("orders") or []
    order = _pick(orders, text)
    if order is None:
        message = "I can't find that order on your account." if orders else "I can't see any orders on your account."
        return finish(
            turn.reply(
                message + " If you ordered in a shop or with another email address, a colleague can look it up.",
                "completed",
                summary="no matching order",
                data={"order_id": None},
            )
        )
    action = _action(text)
    if action is not None and order.get("can_change"):
        return say_then_wait(
            f"{_where(order)} Shall I {_change_phrase(action, order)}? (yes/no)",
            summary=f"proposed {action} of {order.get('order_id')}",
            then="confirm",
            data={"order_id": order.get("order_id"), "status": order.get("status"), "action": action},
            update={"order_id": str(order.get("order_id")), "action": action},
        )
    text_out = _where(order)
    if action is not None:
        text_out += _too_late(order)
    elif order.get("can_change"):
        text_out += " I can still cancel it or switch it to next-day delivery or collection in store if you'd like."
    return finish(await _told(turn, order, action, text_out))


def _too_late(order: dict[str, Any]) -> str:
    if order.get("status") == "dispatched":
        return (
            " It's already on its way, so it can't be changed now: you can refuse it at the door or return it "
            "within 14 days for a refund."
        )
    return " It can't be changed any more."


async def confirm(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    answer = yes_no(turn.text)
    if answer is None:
        return say_then_wait(
            "Sorry, should I go ahead with the change to your order? Please answer yes or no.",
            summary="waiting for a yes or no to the order change",
            then="confirm",
        )
    if answer is False:
        return finish(
            turn.reply(
                "OK, I've left your order as it is.",
                "completed",
                summary=f"order {state['order_id']} left unchanged",
                data={"order_id": state["order_id"], "action": None},
            )
        )
    return Command(goto="change")


async def change(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "change")
    assert turn.keys is not None
    email, action = turn.keys.email, state["action"]
    # Read the order again: it may have left the warehouse since the customer was asked.
    orders = (await turn.call("support.list_orders", {"email": email})).get("orders") or []
    order = next((o for o in orders if o.get("order_id") == state["order_id"]), None)
    if order is None or not order.get("can_change"):
        text = _where(order) + _too_late(order) if order else "I can't find that order on your account any more."
        return finish(await _told(turn, order or {"order_id": state["order_id"]}, action, text))
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
    return finish(await _told(turn, order, action, done))


async def _told(turn: Turn, order: dict[str, Any], action: str | None, text: str) -> Reply:
    summary = f"order {order.get('order_id')} {order.get('status')}" + (f", {action}" if action else "")
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        text,
        "completed",
        summary=summary,
        data={"order_id": order.get("order_id"), "status": order.get("status"), "action": action},
    )


def graph() -> StateGraph[OrderState, SkillContext, Any, Any]:
    g = StateGraph(OrderState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("email", then="look"))
    g.add_node("look", look)
    g.add_node(WAIT_NODE, wait)
    g.add_node("confirm", confirm)
    g.add_node("change", change)
    g.set_entry_point(VERIFY_NODE)
    return g
