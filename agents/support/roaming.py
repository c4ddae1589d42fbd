"""``roaming``: is roaming on, what a day abroad costs, and switching it on or off after a yes.

    verify -> look -> [confirm (waits for yes/no) -> switch]

``look`` reads the line's roaming setting with the price in the country the customer names (or
where the network sees the phone) and what their plan includes; a line with roaming off is offered
to switch it on (a customer asking to stop it is offered that). ``switch`` reads the setting again
before it changes it.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import money
from agents.runtime.turn import Reply, Turn
from agents.support.confirming import CONFIRM_NODE, ConfirmState, confirm, propose

# Countries customers name, as the network's price list spells them (aliases first).
_ALIASES = {"usa": "United States", "us": "United States", "america": "United States", "states": "United States"}
_ALIASES |= {"holland": "Netherlands", "turkiye": "Turkey"}
COUNTRIES = (
    *("Spain", "France", "Italy", "Germany", "Portugal", "Greece", "Ireland", "Netherlands", "Poland"),
    *("Switzerland", "Norway", "Turkey", "Iceland", "United States", "Canada", "Australia", "New Zealand"),
    *("Japan", "Thailand", "Mexico", "Brazil", "India", "South Africa", "Egypt", "Morocco"),
)
_OFF = re.compile(
    r"\b(turn|switch|shut)\w* (it |my roaming |roaming )?off\b|\b(disable|stop|block|bar)\w* (my )?roaming\b"
)
_TIPS = (
    "If it still won't connect, turn on Data roaming in your phone's mobile network settings, restart the phone, "
    "and if that doesn't help choose a local network by hand in the same settings."
)


def country_in(text: str) -> str | None:
    """The country the customer names, spelt as the price list spells it."""
    lowered = f" {text.lower()} "
    for alias, name in _ALIASES.items():
        if re.search(rf"\b(in|to|from|visiting) (the )?{alias}\b", lowered):
            return name
    return next((c for c in sorted(COUNTRIES, key=len, reverse=True) if re.search(rf"\b{c.lower()}\b", lowered)), None)


class RoamingState(ConfirmState, total=False):
    enable: bool


def _price(roaming: dict[str, Any], entitlements: dict[str, Any]) -> str:
    rate = roaming.get("rate")
    if not isinstance(rate, dict):
        return ""
    where = rate["country_name"]
    if rate.get("zone") == "eu" and "eu-roaming" in (entitlements.get("features") or []):
        plan = entitlements.get("plan_name") or "your"
        return f"Your {plan} plan includes eu-roaming, so using your phone in {where} costs nothing extra. "
    fee = money(rate.get("daily_fee"), rate.get("currency"))
    return f"In {where}, roaming costs {fee} a day, charged only on the days you use your phone there. "


async def look(state: RoamingState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "look")
    assert turn.keys is not None
    text = turn.text  # the customer's words; the hand-off reason names the skill itself
    named = country_in(text)
    roaming = await turn.call("network.get_roaming", {"msisdn": turn.keys.msisdn, "country": named})
    entitlements = await turn.call("billing.get_entitlements", {"msisdn": turn.keys.msisdn})
    price = _price(roaming, entitlements)
    if named and not roaming.get("rate"):
        price = f"I don't have roaming prices for {named} here, so please check them in the app before you go. "
    data = {
        "enabled": bool(roaming.get("enabled")),
        "abroad": bool(roaming.get("abroad")),
        "country": named,
        # What the customer pays for, as billing has it now (never an older copy of the plan).
        "plan_id": entitlements.get("plan_id"),
        "features": entitlements.get("features") or [],
    }
    enabled = bool(roaming.get("enabled"))
    if _OFF.search(text.lower()) and enabled:
        return propose(
            price + "Roaming is on for your line. Shall I switch it off, so your phone can't be used on networks "
            "abroad? (yes/no)",
            summary="offered to switch roaming off",
            declined="OK, I've left roaming on.",
            data=data,
            update={"enable": False},
        )
    if not enabled:
        where = roaming.get("current_country") or named
        why = f", which is why your phone isn't working in {where}" if roaming.get("abroad") else ""
        return propose(
            price + f"Roaming is switched off on your line{why}. Shall I switch it on now? (yes/no)",
            summary="offered to switch roaming on",
            declined="OK, I've left roaming off. You can ask me to switch it on any time.",
            data=data,
            update={"enable": True},
        )
    return finish(await _already_on(turn, roaming, price, data))


async def _already_on(turn: Turn, roaming: dict[str, Any], price: str, data: dict[str, Any]) -> Reply:
    if roaming.get("abroad"):
        where = roaming.get("current_country") or "abroad"
        status = f"Roaming is on for your line and the network sees your phone in {where}. {_TIPS}"
    else:
        status = (
            "Roaming is already on for your line, so your phone will work abroad. Remember to turn on Data "
            "roaming in your phone's settings when you arrive."
        )
    summary = "roaming on" + (f", abroad in {roaming.get('current_country')}" if roaming.get("abroad") else "")
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(price + status, "completed", summary=summary, data={**data, "changed": False})


async def switch(state: RoamingState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "switch")
    assert turn.keys is not None
    enable = state.get("enable", True)
    now = await turn.call("network.get_roaming", {"msisdn": turn.keys.msisdn})
    word = "on" if enable else "off"
    if bool(now.get("enabled")) != enable:
        now = await turn.call(
            "network.set_roaming", {"msisdn": turn.keys.msisdn, "enabled": enable}, step=f"roaming:{word}"
        )
    text = f"Done: roaming is now {word} for your line."
    if enable:
        text += (
            " On your phone, turn on Data roaming in the mobile network settings too; if it doesn't connect "
            "straight away, restart the phone."
        )
    summary = f"roaming switched {word}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(text, "completed", summary=summary, data={"enabled": bool(now.get("enabled")), "changed": True})
    )


def graph() -> StateGraph[RoamingState, SkillContext, Any, Any]:
    g = StateGraph(RoamingState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="look"))
    g.add_node("look", look)
    g.add_node(CONFIRM_NODE, confirm(then="switch", step="look"))
    g.add_node("switch", switch)
    g.set_entry_point(VERIFY_NODE)
    return g
