"""``update-contact``: change the email address or the postal address on the account, after a yes.

    verify -> ask (waits for the new address, unless already given) -> confirm (waits for yes/no) -> update
           -> the same three for the postal address (``address``)

Where codes and notices go is how accounts are taken over: the gateway allows the change only for
a customer verified at AAL2 or above (``guard.contact-change-needs-aal2``), and the identity system
refuses an address that is already on another account. The mobile number is the line itself and
changes by a port, never here.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.identity import address
from agents.identity.address import AddressState
from agents.runtime import ToolFailed
from agents.runtime.graph import SkillContext, ask, finish, turn_of
from agents.runtime.outcomes import HUMAN
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import find_email
from shared.yes_no import yes_no

_PHONE_CHANGE = re.compile(r"\b(phone|mobile|number)\b", re.I)


class ContactState(AddressState, total=False):
    email: str


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


async def start(state: ContactState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    said = f"{turn.handoff.reason} {turn.text}"
    given = find_email(turn.text)
    if given is None and address.ADDRESS_WORDS.search(said):
        return address.start_with(turn.text)
    if given is None and _PHONE_CHANGE.search(said) and "email" not in said.lower():
        return finish(
            turn.reply(
                "Your mobile number is your line itself, so it can't be changed in a chat; a colleague can help you "
                "move to a new number. I can change the email address or the postal address on your account here if "
                "you'd like.",
                "completed",
                summary="asked to change the mobile number; not possible in chat",
                handoff_to=HUMAN.model_copy(update={"reason": "wants to change their mobile number"}),
            )
        )
    if given is not None:
        return Command(goto="confirm", update={"email": given})
    return Command(goto="ask_email")


async def ask_email(state: ContactState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    question = (
        "That doesn't look like an email address. Please type the full new address, like name@example.com."
        if state.get("asked") == "email"
        else "What's the new email address you'd like on your account?"
    )
    said = ask(
        turn.reply(question, "input-required", summary="asked for the new email address", data={"asking": "email"})
    )
    given = find_email(said)
    if given is None:
        if yes_no(said) is False:
            return finish(turn.reply("OK, I haven't changed anything.", "completed", summary="contact change dropped"))
        return Command(goto="ask_email", update={"asked": "email"})
    return Command(goto="confirm", update={"email": given, "asked": ""})


async def confirm(state: ContactState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "check")
    current = await turn.call("identity.get_contact_details", {"customer_id": _customer(turn)})
    if str(current.get("email", "")).lower() == state["email"]:
        return finish(
            turn.reply(
                f"{state['email']} is already the email address on your account, so there's nothing to change.",
                "completed",
                summary="email already on record",
                data={"changed": False},
            )
        )
    question = (
        "Should I change it? Please answer yes or no."
        if state.get("asked") == "confirm"
        else f"Just to confirm: change the email address on your account from {_masked(str(current.get('email')))} "
        f"to {state['email']}? Codes, bills and notices will go there from now on. (yes/no)"
    )
    answer = yes_no(ask(turn.reply(question, "input-required", summary="confirming the new email address")))
    if answer is None:
        return Command(goto="confirm", update={"asked": "confirm"})
    if answer is False:
        return finish(
            turn.reply("OK, your email address stays as it is.", "completed", summary="contact change declined")
        )
    return Command(goto="update")


async def update(state: ContactState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "update")
    try:
        changed = await turn.call(
            "identity.update_contact_details",
            {"customer_id": _customer(turn), "email": state["email"]},
            step=f"contact:{state['email']}",
        )
    except ToolFailed as exc:
        if "another account" not in str(exc):
            raise
        return finish(
            turn.reply(
                "That email address is already used on another account, so I can't add it to yours. "
                "Please use an address of your own.",
                "completed",
                summary="new email already on another account",
                data={"changed": False},
            )
        )
    return finish(
        turn.reply(
            f"Done. The email address on your account is now {changed.get('email')}. Codes, bills and notices go there "
            "from now on.",
            "completed",
            summary="email address changed",
            data={"changed": bool(changed.get("changed"))},
        )
    )


def _customer(turn: Any) -> str:
    assert turn.keys is not None and turn.keys.customer_id is not None
    return str(turn.keys.customer_id)


def graph() -> StateGraph[ContactState, SkillContext, Any, Any]:
    g = StateGraph(ContactState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("customer_id", then="start"))
    nodes = (
        ("start", start),
        ("ask_email", ask_email),
        ("confirm", confirm),
        ("update", update),
        ("ask_address", address.ask_address),
        ("confirm_address", address.confirm_address),
        ("update_address", address.update_address),
    )
    for name, node in nodes:
        g.add_node(name, node)
    g.set_entry_point(VERIFY_NODE)
    return g
