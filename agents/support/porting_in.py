"""Bringing a number in, the half of ``number-porting`` that books a move from another provider.

    look -> details (waits for the number and its porting code) -> propose -> confirm -> port_in
         [-> held (waits for a person) -> port_in]

A customer asking how it is going hears the status of the move they booked. The network checks the
code with the number's current provider and refuses a number already ours or a line locked after a
fraud report; the gateway allows the request only for a customer verified with a one-time code and
holds it for a person during a fraud hold, like every write that moves a number. A second request
for a number already on its way answers with the first one's reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.errors import ToolFailed
from agents.runtime.graph import SkillContext, ask, finish, turn_of
from agents.runtime.outcomes import HUMAN, log_interaction
from agents.runtime.steps import in_step
from agents.runtime.text import day, find_phone
from agents.runtime.turn import Reply, Turn
from agents.support.confirming import ConfirmState, held_for_approval, held_key, hold, propose
from shared.answer_shape import PORTING_CODE
from shared.yes_no import yes_no

PORT_IN_NODE = "port_in"
_ASKING = {"asking": "port-in"}
DETAILS_NODE = "details"

# Moving a number "from" somewhere is coming to us; "to" somewhere is leaving, which needs our code.
_PORT_IN = re.compile(
    r"\b(bring|transfer|move|port|keep)\w* (my |our |the )?(old |existing |current )?(mobile )?(number|numbers|no\.?)"
    r"\b[^.?!]{0,30}?\b(to you|to northwind|from|in|with me|when i (join|switch))\b|"
    r"\b(from|leaving) (my old|my current|another|a different|the other) (network|provider|operator|carrier)\b|"
    r"\bport(ing)?[- ]in\b|\bjoin(ing)? you\b|\bswitch(ing)? to you\b",
    re.I,
)
_SAID_CODE = re.compile(r"\b(?:pac|porting code|code)\b\W{0,3}(?:is\W{0,3})?([A-Za-z0-9-]{3,14})\b", re.I)
_REFERENCE = re.compile(r"\bPORT-[0-9A-F]{8}\b", re.I)
_STATUS = re.compile(
    r"\b(status|progress|update|yet|going|gone through|happened|when (will|does|is)|has my|is my|where('s| is))\b",
    re.I,
)
_MOVE_WORDS = re.compile(r"\b(number|transfer\w*|port\w*|mov\w*)\b", re.I)
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SAID_DAY = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?("
    + "|".join(_MONTHS)
    + r")[a-z]*\b|\b("
    + "|".join(_MONTHS)
    + r")[a-z]* (\d{1,2})(?:st|nd|rd|th)?\b",
    re.I,
)
_EARLIEST = re.compile(r"\b(earliest|asap|as soon as (possible|you can)|next working day|tomorrow)\b", re.I)

HOW_IT_WORKS = (
    "You can bring your number to us. Ask your current provider for your porting code (in the UK, text PAC to "
    "65075 from that phone; it's free and comes straight back). Then give us the code with the number, and we'll "
    "move the number on the next working day: your SIM with us takes over the number that morning, and your old "
    "contract ends with the move. Until then, keep using your old SIM as normal."
)
NOT_MOVED = "Our team didn't approve the move, so nothing has changed: no number has been moved."


def _asks_status(text: str) -> bool:
    return bool(_REFERENCE.search(text) or (_STATUS.search(text) and _MOVE_WORDS.search(text)))


def wants_port_in(text: str) -> bool:
    """The customer is bringing a number to us, or asks how a number move is going."""
    said = _SAID_CODE.search(text)
    gave_code = PORTING_CODE.search(text) or (said is not None and re.search(r"\d", said.group(1)))
    return bool(_PORT_IN.search(text) or gave_code or _asks_status(text))


@dataclass(frozen=True)
class Details:
    number: str | None = None
    code: str | None = None
    bad_code: str | None = None
    port_date: str | None = None
    earliest: bool = False


def details_in(text: str, *, own: str | None, today: date) -> Details:
    """The number to move, its porting code and the day, as far as the customer gave them."""
    code_match = PORTING_CODE.search(text)
    code = (code_match.group(1) + code_match.group(2)).upper() if code_match else None
    said = _SAID_CODE.search(text)
    bad = said.group(1) if code is None and said and re.search(r"\d", said.group(1)) else None
    port_date = _day_in(text, today)
    rest = _ISO_DAY.sub(" ", text)
    for found in (code_match, said):
        if found is not None:
            rest = rest.replace(found.group(0), " ")
    number = _uk(find_phone(rest))
    return Details(
        number=None if number == own else number,
        code=code,
        bad_code=bad,
        port_date=port_date,
        earliest=bool(_EARLIEST.search(text)),
    )


def _uk(number: str | None) -> str | None:
    if number is None:
        return None
    if number.startswith("0044"):
        number = "+" + number[2:]
    if number.startswith("07"):
        number = "+44" + number[1:]
    return number


def _day_in(text: str, today: date) -> str | None:
    iso = _ISO_DAY.search(text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3))).isoformat()
        except ValueError:
            return None
    said = _SAID_DAY.search(text)
    if said is None:
        return None
    number, month = (said.group(1), said.group(2)) if said.group(1) else (said.group(4), said.group(3))
    try:
        found = date(today.year, _MONTHS.index(month[:3].lower()) + 1, int(number))
        return (found if found >= today else found.replace(year=today.year + 1)).isoformat()
    except ValueError:
        return None


def next_working_day(today: date) -> date:
    found = today + timedelta(days=1)
    while found.weekday() >= 5:
        found += timedelta(days=1)
    return found


def _today() -> date:
    return datetime.now(UTC).date()


class PortInState(ConfirmState, total=False):
    number: str
    code: str
    port_date: str
    asked: str


def _update(state: PortInState, found: Details) -> dict[str, Any]:
    update: dict[str, Any] = {}
    if found.number:
        update["number"] = found.number
    if found.code:
        update["code"] = found.code
    if found.port_date:
        update["port_date"] = found.port_date
    elif found.earliest:
        update["port_date"] = ""
    return update


async def start(turn: Turn, state: PortInState) -> Command[Any]:
    """From ``look``: a status for a booked move, else what the customer gave goes to ``details``."""
    assert turn.keys is not None
    booked = (await turn.call("network.get_port_in", {"msisdn": turn.keys.msisdn})).get("requests") or []
    found = details_in(turn.text, own=turn.keys.msisdn, today=_today())
    if _asks_status(turn.text) and not (found.number or found.code):
        if booked:
            return finish(await _status(turn, booked))
        if not _PORT_IN.search(turn.text):
            return finish(await _nothing_booked(turn))
    update = _update(state, found)
    if found.bad_code:
        update["asked"] = "code"
    else:
        update["asked"] = "" if (found.number or found.code) else "how"
    return Command(goto=DETAILS_NODE, update=update)


async def _status(turn: Turn, booked: list[dict[str, Any]]) -> Reply:
    latest = booked[0]
    number, reference, when = latest.get("number"), latest.get("reference"), day(latest.get("port_date"))
    if latest.get("status") == "completed":
        text = (
            f"Your number {number} moved from {latest.get('donor')} to your SIM with us on {when} "
            f"(reference {reference}). It's your number with us now; your old contract for it has ended."
        )
    else:
        text = (
            f"Your number {number} is booked to move from {latest.get('donor')} to your SIM with us on {when} "
            f"(reference {reference}). That morning your SIM with us takes over the number; until then keep using "
            "your old SIM as normal."
        )
    summary = f"told the status of port-in {reference}: {latest.get('status')}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    data = {"port_in": True, **{k: latest.get(k) for k in ("reference", "number", "port_date", "status")}}
    return turn.reply(text, "completed", summary=summary, data=data)


async def _nothing_booked(turn: Turn) -> Reply:
    summary = "asked about a number move; none booked"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        "I can't see a number on its way to us for your line. If you're bringing a number in, send me the number and "
        "its porting code and I'll book the move. If you're leaving us, your new provider moves your number with the "
        "porting code we give you: just ask me for it.",
        "completed",
        summary=summary,
        data={"port_in": True, "requested": False},
    )


def _question(state: PortInState) -> str:
    asked = state.get("asked", "")
    wanted = (("number", "the number you're bringing"), ("code", "its porting code"))
    missing = [w for k, w in wanted if not state.get(k)]
    if asked == "how":
        return (
            HOW_IT_WORKS + " If you already have your porting code, send me the number you're bringing and the code, "
            "and I'll book the move now."
        )
    if asked == "code":
        return (
            "That doesn't look like a porting code: a porting code is three letters then six digits, like ABC123456. "
            "Please check the text your current provider sent and type the code again."
        )
    if asked == "mismatch":
        return (
            f"That code isn't the one {state.get('number')}'s current provider issued for it. Please check the "
            "number and the code against their text and send me both again."
        )
    if asked == "number":
        return "That doesn't look like a UK mobile number. Which number are you bringing to us, like 07700 900123?"
    if asked == "date":
        return (
            "We can move a number on a working day (Monday to Friday), from the next working day while the code is "
            "valid. Which day would you like, or shall I book the earliest?"
        )
    return f"To book the move I need {' and '.join(missing)}. What are they?"


async def details(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    """Wait for the details still missing; go on to the proposal when the number and the code are known."""
    turn = in_step(turn_of(runtime), "look")
    assert turn.keys is not None
    if state.get("number") and state.get("code") and state.get("asked", "") in ("", "how"):
        return Command(goto="propose_port_in")
    said = ask(
        turn.reply(
            _question(state), "input-required", summary="asked for the number and its porting code", data=_ASKING
        )
    )
    found = details_in(said, own=turn.keys.msisdn, today=_today())
    update = _update(state, found)
    if not update and yes_no(said) is False:
        return finish(
            turn.reply(
                "OK, I haven't booked anything. When you have your porting code, just send it to me with the number.",
                "completed",
                summary="port-in not booked",
                data={"port_in": True, "requested": False},
            )
        )
    if found.bad_code:
        return Command(goto=DETAILS_NODE, update={**update, "asked": "code"})
    if state.get("asked") == "date" and "port_date" not in update:
        return Command(goto=DETAILS_NODE, update=update)
    update["asked"] = ""
    return Command(goto=DETAILS_NODE, update=update)


async def propose_port_in(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    number = state["number"]
    when = day(state.get("port_date") or next_working_day(_today()).isoformat())
    return propose(
        f"I'll ask for {number} to move to your SIM with us on {when}, using porting code {state['code']}. From that "
        "morning your SIM with us uses that number, and your contract for it with your current provider ends (any "
        f"fee they charge for leaving early is theirs). Can you confirm you're the account holder for {number}, or "
        "have their permission, and that I should book it? (yes/no)",
        summary=f"offered to bring in {number}",
        declined="OK, I haven't booked anything, and your numbers stay as they are.",
        data={"port_in": True, "number": number, "port_date": state.get("port_date") or None},
    )


async def port_in(state: PortInState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "port-in")
    assert turn.keys is not None
    args = {"msisdn": turn.keys.msisdn, "number": state["number"], "porting_code": state["code"]}
    if state.get("port_date"):
        args["port_date"] = state["port_date"]
    try:
        key = held_key(state) or turn.idempotency_key("port-in")
        booked = await turn.call("network.request_port_in", args, step="port-in", key=key)
    except ToolFailed as refused:
        return await _refused(turn, state, refused)
    approval = held_for_approval(booked)
    if approval is not None:
        summary = f"moving {state['number']} in waits for a colleague's check"
        await log_interaction(turn, summary=summary, outcome="pending-approval")
        return hold(
            "For your security, a member of our team needs to check this before a number is moved onto your SIM. "
            "I've asked them to, and I'll confirm the move here as soon as it's approved; nothing changes in the "
            "meantime.",
            summary=summary,
            approval_id=approval,
            key=key,
            data={"port_in": True, "requested": False},
        )
    reference, when = booked.get("reference"), day(booked.get("port_date"))
    again = "That move was already booked: " if booked.get("already_requested") else "Done: "
    summary = (
        f"port-in {reference} booked: {booked.get('number')} from {booked.get('donor')} on {booked.get('port_date')}"
    )
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"{again}{booked.get('number')} moves from {booked.get('donor')} to your SIM with us on {when}. Your "
            f"reference is {reference}; ask me about it any time to see how it's going. That morning your SIM with "
            "us takes over the number; until then keep using your old SIM as normal.",
            "completed",
            summary=summary,
            data={
                "port_in": True,
                "requested": True,
                **{k: booked.get(k) for k in ("reference", "number", "donor", "port_date", "status")},
                "already_requested": bool(booked.get("already_requested")),
            },
        )
    )


async def _refused(turn: Turn, state: PortInState, refused: ToolFailed) -> Command[Any]:
    """What the network's refusal means for the customer: ask again, explain, or offer a person."""
    number, detail = state["number"], refused.detail
    if "not a porting code" in detail:
        return Command(goto=DETAILS_NODE, update={"asked": "code", "code": ""})
    if "is not the one" in detail:
        return Command(goto=DETAILS_NODE, update={"asked": "mismatch", "code": ""})
    if "not a UK mobile number" in detail:
        return Command(goto=DETAILS_NODE, update={"asked": "number", "number": ""})
    if "working day" in detail:
        return Command(goto=DETAILS_NODE, update={"asked": "date", "port_date": ""})
    handoff = None
    if "expired" in detail:
        text = (
            f"The porting code for {number} has expired: codes last 30 days. Ask your current provider for a new one "
            "(text PAC to 65075 from that phone, it's free) and send it to me, and I'll book the move."
        )
    elif "already a number with us" in detail:
        text = f"{number} is already a number with us, so there's nothing to bring in."
    elif "locked" in detail:
        text = (
            "Your line is protected after a report of fraud, so no number can be moved onto it until our fraud team "
            "has checked it with you. Would you like me to put you through to a member of our team?"
        )
        handoff = HUMAN.model_copy(update={"reason": "port-in asked on a line locked after fraud", "priority": "high"})
    elif "already being moved" in detail:
        text = (
            f"{number} is already being moved to another line, so I can't book it for yours. A colleague can look "
            "into it with you; would you like me to put you through?"
        )
        handoff = HUMAN.model_copy(update={"reason": "port-in of a number already moving to another line"})
    else:
        raise refused  # not a refusal this skill words: the runtime's standard answer
    summary = f"port-in of {number} refused: {detail[:120]}"
    await log_interaction(turn, summary=summary, outcome="handed-over" if handoff else "no-action")
    return finish(
        turn.reply(text, "completed", summary=summary, handoff_to=handoff, data={"port_in": True, "requested": False})
    )
