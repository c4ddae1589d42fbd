"""``verify-identity``: identifier -> send a code (if it matches) -> check the code.

    start -> identify <-> wait -> send_code -> wait -> check_code -> (done | wait | send_code | identify)

Nothing said before verification depends on whether the identifier matches an account, and
no contact detail is shown: the identity system answers known and unknown identifiers alike,
and this agent never looks the customer up first. The identifier and the verification id stay on
the server; a caller can neither choose what a code is checked against nor replay another task's.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import ToolFailed
from agents.runtime.graph import SkillContext, SkillState, finish, turn_of
from agents.runtime.outcomes import HUMAN
from agents.runtime.steps import WAIT_NODE, Prompt, say_then_wait, wait
from agents.runtime.text import find_code, find_customer_hint
from shared.envelope import CustomerRef

MAX_PAUSES = 2
ASKING_IDENTIFIER = {"asking": "identifier"}
"""Result data while waiting for an email, phone or account number (a voice channel offers caller id)."""
ASKING_CODE = {"asking": "code"}
"""Result data while waiting for the one-time code (a voice channel listens for digits)."""
_ASK = "To confirm who you are, please tell me the email address, phone number or account number on your account."
_OTHER_WAY = (
    "For your security I can't send or check a code for those details right now. You can try another "
    "contact detail on the account (your email address or mobile number), or I can connect you with a colleague."
)
_RESEND_WORDS = ("resend", "new code", "another code", "didn't get", "didnt get", "not received", "no code")


class VerifyState(SkillState, total=False):
    prompt: Prompt
    identifier: str
    verification_id: str
    sent_to: str
    pauses: int


async def start(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    if turn.envelope.customer and turn.envelope.auth_context:
        name = turn.envelope.customer.display_name
        return finish(
            turn.reply(
                f"You're already verified{', ' + name if name else ''}, so there's no need to do it again.",
                "completed",
                summary="already verified",
                auth_context=turn.envelope.auth_context,
                customer=turn.envelope.customer,
                data={"customer_id": turn.envelope.customer.customer_id, "already_verified": True},
            )
        )
    return Command(goto="identify")


# "Change my email to x@y", "my new email is x@y": an address the customer calls new is not the one
# on the account, so it is not what a code is sent to.
_NEW_ADDRESS = re.compile(
    r"\b(new|chang\w*|updat\w*|replac\w*|switch\w*)\b[^.?!]*\be-?mail\b|\be-?mail\b[^.?!]*\b(to|is now|changed)\b",
    re.IGNORECASE,
)


# "Bring 07700 901001 over from EE, PAC ABC123456": a number coming from another provider is on no
# account here yet, so it is not what a code is sent to either.
_NUMBER_COMING_IN = re.compile(
    r"\b[A-Za-z]{3} ?\d{6}\b|\bport(ing)?\b[^.?!]{0,30}\bin\b|"
    r"\b(bring|transfer|mov|port)\w*\b[^.?!]{0,40}\b(from|over to you|across|to you)\b",
    re.IGNORECASE,
)


async def identify(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    text = turn_of(runtime).text
    hint = find_customer_hint(text)
    if hint is not None and "@" in hint and _NEW_ADDRESS.search(text):
        hint = None
    if hint is not None and hint.lstrip("+").isdigit() and _NUMBER_COMING_IN.search(text):
        hint = None
    if hint is None:
        return say_then_wait(_ASK, summary="asked for an identifier", then="identify", data=ASKING_IDENTIFIER)
    return Command(goto="send_code", update={"identifier": hint})


async def send_code(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    try:
        sent = await turn.call(
            "identity.start_verification",
            {"identifier": state["identifier"], "channel": "any", "conversation_id": turn.envelope.conversation_id},
        )
    except ToolFailed:
        return _paused(state, runtime)
    sent_to = str(sent.get("sent_to") or "the contact details on the account")
    return say_then_wait(
        f"Thanks. If those details match an account, I've sent a 6-digit code to {sent_to}. "
        "Please type it here when it arrives.",
        summary="verification code requested",
        then="check_code",
        # What the customer said they are (unverified): the orchestrator counts a case they open
        # before the code arrives as that customer's, so no marketing reaches them meanwhile.
        data={**ASKING_CODE, "claimed": state["identifier"]},
        update={"verification_id": sent["verification_id"], "sent_to": sent_to},
    )


def _paused(state: VerifyState, runtime: Runtime[SkillContext], opening: str = "") -> Command[Any]:
    """This way is exhausted (resends, guesses): offer another contact detail, then a human."""
    pauses = int(state.get("pauses", 0)) + 1
    if pauses >= MAX_PAUSES:
        return finish(
            turn_of(runtime).reply(
                "For your security I'll stop trying codes here. A member of our team can help you confirm who you are.",
                "failed",
                summary="verification paused twice; handed to a human",
                handoff_to=HUMAN.model_copy(update={"reason": "identity could not be confirmed"}),
                data={"locked": True},
            )
        )
    return say_then_wait(
        opening + _OTHER_WAY,
        summary="verification paused for those details",
        then="identify",
        data=ASKING_IDENTIFIER,
        update={"pauses": pauses},
    )


async def check_code(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    code = find_code(turn.text)
    if code is None:
        if find_customer_hint(turn.text) is not None:  # a corrected or different identifier
            return Command(goto="identify")
        if any(w in turn.text.lower() for w in _RESEND_WORDS):
            return Command(goto="send_code")  # capped by the identity system, not here
        return say_then_wait(
            f"Please type the 6-digit code I sent to {state.get('sent_to', 'you')}.",
            summary="waiting for the code",
            then="check_code",
            data=ASKING_CODE,
        )
    try:
        checked = await turn.call(
            "identity.verify_code",
            {
                "verification_id": state["verification_id"],
                "code": code,
                "conversation_id": turn.envelope.conversation_id,
            },
        )
    except ToolFailed:  # this code is used up or expired: a new one, within the identity system's caps
        return Command(goto="send_code")
    if checked.get("verified"):
        customer = CustomerRef.model_validate(checked["customer"])
        name = customer.display_name
        return finish(
            turn.reply(
                f"Thank you{', ' + name if name else ''}, you're verified.",
                "completed",
                summary=f"verified {customer.customer_id} by one-time code",
                auth_context=checked["auth_context"],
                customer=customer,
                data={"customer_id": customer.customer_id, "verified": True},
            )
        )
    if checked.get("locked"):
        return _paused(state, runtime, "That code didn't match. ")
    if int(checked.get("attempts_left", 0)) <= 0:
        return say_then_wait(
            "That code didn't match, and that code can't be used again. Say \"new code\" and I'll send another "
            "if the details match an account.",
            summary="wrong code, that code is used up",
            then="check_code",
            data=ASKING_CODE,
        )
    left = int(checked["attempts_left"])
    return say_then_wait(
        f"That code didn't match. You have {left} attempt{'s' if left != 1 else ''} left. "
        "Please check the message and try again.",
        summary=f"wrong code, {left} attempts left",
        then="check_code",
        data={**ASKING_CODE, "attempts_left": left},
    )


def graph() -> StateGraph[VerifyState, SkillContext, Any, Any]:
    g = StateGraph(VerifyState, context_schema=SkillContext)
    for name, node in (
        ("start", start),
        ("identify", identify),
        ("send_code", send_code),
        ("check_code", check_code),
        (WAIT_NODE, wait),
    ):
        g.add_node(name, node)
    g.set_entry_point("start")
    return g
