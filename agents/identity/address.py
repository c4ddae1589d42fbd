"""``update-contact`` for the postal address: read it from what the customer wrote, say it back, change it on a yes.

    start -> ask_address (waits for an address it can read) -> confirm_address (waits for yes/no) -> update_address

A replacement SIM goes to the postal address, so it is guarded like the email: the gateway allows the
change only for a customer verified at AAL2 or above. What the customer typed is read here only far
enough to say it back; identity checks it (a UK postcode, a street, a town) and its refusal is put
to the customer in their words and the address asked for again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import ToolFailed
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.steps import in_step
from agents.runtime.turn import Turn
from shared.answer_shape import UK_POSTCODE
from shared.escalation import one_line_address
from shared.yes_no import yes_no

ADDRESS_WORDS = re.compile(
    r"(?<!email )(?<!e-mail )\b(ad+r+es+|postcode|post code|moved house|moving house|moved home|new home|live at|"
    r"living at|moved to)\b",
    re.I,
)
_STARTS = re.compile(r"\b(flat|apartment|apt|unit)\s*\d+\w*|\b\d+[A-Za-z]?\s+[A-Za-z]", re.I)
_LEAD_IN = re.compile(r".*\b(?:is|to|at|now)\b\s*:?\s*|.*:\s*", re.I | re.S)
ASKING_ADDRESS = {"asking": "postal-address"}
"""Result data while waiting for the address: a reply with a postcode is the answer, wherever a town points."""
EXAMPLE = "12 Acacia Avenue, Kingsmere, KM1 4AB"

# What identity's refusal says, and how the customer hears it.
_PROBLEMS = {
    "postcode": "That postcode doesn't look right: a UK postcode looks like KM1 4AB.",
    "house number": "The first line needs the house number or name and the street, like 12 Acacia Avenue.",
    "town": "The address needs its town or city, like Kingsmere.",
}


@dataclass(frozen=True)
class Read:
    """What could be read from the customer's words: the address, or what is missing from it."""

    address: dict[str, str | None] | None
    problem: str = ""


def address_in(text: str) -> Read:
    """The postal address in ``text``: lines separated by commas, ending with a UK postcode."""
    codes = list(UK_POSTCODE.finditer(text))
    if not codes:
        return Read(None, "postcode")
    code = codes[-1]
    before = text[: code.start()]
    start = _STARTS.search(before)
    body = before[start.start() :] if start else _LEAD_IN.sub("", before, count=1)
    parts = [p.strip(" .") for p in re.split(r"[,\n;]", body) if p.strip(" .")]
    if len(parts) < 2:
        return Read(None, "commas")
    address = {
        "line1": parts[0],
        "line2": ", ".join(parts[1:-1]) or None,
        "town": parts[-1],
        "postcode": f"{code.group(1)} {code.group(2)}".upper(),
    }
    return Read(address)


class AddressState(SkillState, total=False):
    address: dict[str, str | None]
    asked: str


def _question(asked: str) -> str:
    how = f"Please type the whole address on one line, with commas between the lines, like {EXAMPLE}."
    if asked == "postcode":
        return "I couldn't find a UK postcode in that (it looks like KM1 4AB). " + how
    if asked == "commas":
        return "I couldn't tell the street from the town. " + how
    if asked in _PROBLEMS:
        return f"{_PROBLEMS[asked]} {how}"
    if asked == "confirm":
        return "Should I change it? Please answer yes or no."
    return f"What's your new postal address? {how}"


def start_with(text: str) -> Command[Any]:
    """From ``start``: the address the customer already gave goes to the confirmation, else it is asked for."""
    read = address_in(text)
    if read.address is not None:
        return Command(goto="confirm_address", update={"address": read.address, "asked": ""})
    # A house number or flat means they tried to give one: say what is missing rather than ask afresh.
    return Command(goto="ask_address", update={"asked": read.problem if _STARTS.search(text) else ""})


async def ask_address(state: AddressState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    said = ask(
        turn.reply(
            _question(state.get("asked", "")),
            "input-required",
            summary="asked for the new address",
            data=ASKING_ADDRESS,
        )
    )
    read = address_in(said)
    if read.address is None:
        if yes_no(said) is False:
            return finish(turn.reply("OK, I haven't changed anything.", "completed", summary="address change dropped"))
        return Command(goto="ask_address", update={"asked": read.problem})
    return Command(goto="confirm_address", update={"address": read.address, "asked": ""})


async def confirm_address(state: AddressState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "check")
    current = await turn.call("identity.get_contact_details", {"customer_id": _customer(turn)})
    new = one_line_address(state["address"]) or ""
    old = current.get("address") or {}
    if one_line_address(old) == new:
        return finish(
            turn.reply(
                f"{new} is already the address on your account, so there's nothing to change.",
                "completed",
                summary="address already on record",
                data={"changed": False},
            )
        )
    was = f"from your address in {old.get('town')}, {old.get('postcode')} " if old else ""
    question = (
        _question("confirm")
        if state.get("asked") == "confirm"
        else f"Just to confirm: change the postal address on your account {was}to {new}? Replacement SIMs, letters "
        "and deliveries will go there from now on. (yes/no)"
    )
    answer = yes_no(ask(turn.reply(question, "input-required", summary="confirming the new address")))
    if answer is None:
        return Command(goto="confirm_address", update={"asked": "confirm"})
    if answer is False:
        return finish(turn.reply("OK, your address stays as it is.", "completed", summary="address change declined"))
    return Command(goto="update_address")


async def update_address(state: AddressState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "update")
    given = {k: v for k, v in state["address"].items() if v}
    try:
        changed = await turn.call(
            "identity.update_postal_address",
            {"customer_id": _customer(turn), **given},
            step=f"address:{given.get('postcode')}:{given.get('line1')}",
        )
    except ToolFailed as exc:
        problem = next((p for p in _PROBLEMS if p in str(exc)), None)
        if problem is None:
            raise
        return Command(goto="ask_address", update={"asked": problem})
    now = one_line_address(changed.get("address"))
    return finish(
        turn.reply(
            f"Done. The postal address on your account is now {now}. Replacement SIMs, letters and deliveries go "
            "there from now on.",
            "completed",
            summary="postal address changed",
            data={"changed": bool(changed.get("changed")), "address": changed.get("address")},
        )
    )


def _customer(turn: Turn) -> str:
    assert turn.keys is not None and turn.keys.customer_id is not None
    return str(turn.keys.customer_id)
