"""``order-device``: ordering a phone or a SIM, with its delivery, after the customer's yes.

    verify -> load -> choose (waits for an item when none was named) -> confirm (yes/no) -> order

Orders already placed belong to ``track-order``. ``order`` reads the catalogue again before it
orders: the price and stock the customer hears at the end are the system's at that moment. The
price goes on the next bill; card details are never taken in a conversation.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import best_match, day, money
from agents.support.confirming import CONFIRM_NODE, ConfirmState, confirm, propose

_ESIM = re.compile(r"\be[- ]?sim\b", re.I)
_DATA_SIM = re.compile(r"\b(data[- ]only|data sim|tablet|ipad|laptop|dongle|router)\b", re.I)
_SIM = re.compile(r"\b(sim|sims|sim card|simcard)\b", re.I)
_GENERIC = re.compile(r"\b(smart ?)?(phones?|handsets?|mobiles?|devices?)\b", re.I)
_NEXT_DAY = re.compile(r"\b(next[ -]?day|tomorrow|express|fast(est)?|quick(est|ly)?|asap)\b", re.I)
_COLLECT = re.compile(
    r"\b(collect\w*|pick(ing)? ?(it )?up|click and collect|in store|from (a|the) (shop|store))\b", re.I
)
DELIVERY = {
    "standard": "by standard delivery (3 working days)",
    "next-day": "by next-day delivery",
    "collect-in-store": "to collect in store (ready in 2 days)",
}


def delivery_in(text: str) -> Literal["standard", "next-day", "collect-in-store"]:
    if _COLLECT.search(text):
        return "collect-in-store"
    return "next-day" if _NEXT_DAY.search(text) else "standard"


def pick(text: str, devices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The item the customer names: an eSIM, a data SIM, a SIM, else a device by its name."""
    by_id = {d["item_id"]: d for d in devices}
    for pattern, item_id in ((_ESIM, "ESIM"), (_DATA_SIM, "SIM-DATA"), (_SIM, "SIM-STD")):
        if pattern.search(text) and item_id in by_id:
            return by_id[item_id]
    goods = [d for d in devices if d.get("kind") in ("phone", "accessory")]
    # "a new phone" names no phone: without the generic words, "phone" would read as "iPhone".
    named = _GENERIC.sub(" ", text)
    index = best_match(named, [d["name"] for d in goods]) if named.strip() else None
    return goods[index] if index is not None else None


def _price(device: dict[str, Any]) -> str:
    return "free" if not device.get("price") else f"{money(device['price'], device.get('currency'))}"


def _menu(devices: list[dict[str, Any]]) -> str:
    shown = [d for d in devices if d.get("in_stock") and d.get("kind") in ("phone", "sim")]
    return "\n".join(f"- {d['name']}: {_price(d)}" for d in shown)


class OrderState(ConfirmState, total=False):
    devices: list[dict[str, Any]]
    item_id: str
    delivery_option: str
    asked: Literal["which", "unclear", "out-of-stock"]


async def load(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "choose")
    listed = await turn.call("support.list_devices", {})
    devices = [
        {k: d.get(k) for k in ("item_id", "name", "kind", "price", "currency", "in_stock")}
        for d in listed.get("devices") or []
    ]
    return Command(goto="choose", update={"devices": devices})


def _proposal(device: dict[str, Any], option: str) -> Command[Any]:
    cost = "free of charge" if not device.get("price") else f"for {_price(device)}, added to your next bill"
    return propose(
        f"To confirm: a {device['name']} {cost}, sent {DELIVERY[option]} to the address on your account. "
        "Shall I place the order? (yes/no)",
        summary=f"confirming order of {device['item_id']}",
        declined="OK, I haven't ordered anything.",
        data={"item_id": device["item_id"], "price": device.get("price"), "delivery_option": option},
        update={"item_id": device["item_id"], "delivery_option": option},
    )


async def choose(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "choose")
    devices, note = state["devices"], state.get("asked")
    text = turn.text if note is None else ""
    device = pick(text, devices) if text else None
    if device is None or not device.get("in_stock") or device["item_id"] == "ESIM":
        opener = {
            None: "Happy to help you order. ",
            "which": "Happy to help you order. ",
            "unclear": "Sorry, I didn't catch which one you'd like. ",
            "out-of-stock": "Sorry, that one is out of stock right now. ",
        }[note if device is None else "out-of-stock"]
        if device is not None and device["item_id"] == "ESIM":
            return finish(
                turn.reply(
                    "An eSIM doesn't need delivering: ask me to set up an eSIM and I'll do it straight away.",
                    "completed",
                    summary="eSIM asked for in an order: pointed to eSIM activation",
                    data={"ordered": False},
                )
            )
        said = ask(
            turn.reply(
                opener + "These are in stock:\n" + _menu(devices) + "\nWhich would you like?",
                "input-required",
                summary="asked which item to order",
                data={"devices": [d for d in devices if d.get("in_stock")]},
            )
        )
        device = pick(said, devices)
        if device is None or not device.get("in_stock") or device["item_id"] == "ESIM":
            missing: Literal["unclear", "out-of-stock"] = "unclear" if device is None else "out-of-stock"
            return Command(goto="choose", update={"asked": missing})
        return _proposal(device, delivery_in(f"{turn.text} {said}"))
    return _proposal(device, delivery_in(text))


async def order(state: OrderState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "order")
    assert turn.keys is not None
    listed = await turn.call("support.list_devices", {})
    device = next((d for d in listed.get("devices") or [] if d.get("item_id") == state["item_id"]), None)
    if device is None or not device.get("in_stock"):
        return finish(
            turn.reply(
                "I'm sorry, that has just gone out of stock, so I haven't ordered anything. Would you like something "
                "else?",
                "completed",
                summary=f"{state['item_id']} out of stock at ordering",
                data={"ordered": False},
            )
        )
    option = state.get("delivery_option", "standard")
    placed = await turn.call(
        "support.place_order",
        {"email": turn.keys.email, "item_id": device["item_id"], "delivery_option": option},
        step=f"order:{device['item_id']}:{option}",
    )
    summary = f"ordered {device['item_id']} as {placed.get('order_id')} ({option})"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"Done: your {placed.get('item')} is ordered (order {placed.get('order_id')}) and should arrive by "
            f"{day(placed.get('expected_delivery'))}. Ask me any time where it is; while it's being prepared you "
            "can still cancel it or change the delivery.",
            "completed",
            summary=summary,
            data={
                "ordered": True,
                "order_id": placed.get("order_id"),
                "item_id": device["item_id"],
                "price": device.get("price"),
                "delivery_option": option,
                "expected_delivery": placed.get("expected_delivery"),
            },
        )
    )


def graph() -> StateGraph[OrderState, SkillContext, Any, Any]:
    g = StateGraph(OrderState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("email", then="load"))
    g.add_node("load", load)
    g.add_node("choose", choose)
    g.add_node(CONFIRM_NODE, confirm(then="order", step="choose"))
    g.add_node("order", order)
    g.set_entry_point(VERIFY_NODE)
    return g
