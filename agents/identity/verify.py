"""``verify-identity``: identifier -> resolve -> send a code -> check the code.

    start -> identify <-> wait -> send_code -> wait -> check_code -> (done | wait | send_code)

The customer id and the verification id stay on the server; a caller can neither choose whom a
code is checked against nor replay another task's verification.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import ToolFailed
from agents.runtime.graph import SkillContext, SkillState, finish, turn_of
from agents.runtime.outcomes import HUMAN
from agents.runtime.steps import WAIT_NODE, Prompt, say_then_wait, wait
from agents.runtime.text import find_code, find_customer_hint, mask_tail
from shared.envelope import CustomerRef

MAX_MISSES = 3
ASKING_IDENTIFIER = {"asking": "identifier"}
"""Result data while waiting for an email, phone or account number (a voice channel offers caller id)."""
ASKING_CODE = {"asking": "code"}
"""Result data while waiting for the one-time code (a voice channel listens for digits)."""
_ASK = "To confirm who you are, please tell me the email address, phone number or account number on your account."
_RESEND_WORDS = ("resend", "new code", "another code", "didn't get", "didnt get", "not received", "no code")


class VerifyState(SkillState, total=False):
    prompt: Prompt
    misses: int
    customer_id: str
    name: str
    sms: str | None
    email: str | None
    verification_id: str
    sent_to: str | None


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


async def identify(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    hint = find_customer_hint(turn.text)
    if hint is None:
        return say_then_wait(_ASK, summary="asked for an identifier", then="identify", data=ASKING_IDENTIFIER)
    try:
        found = await turn.call("identity.resolve_customer", {"hint": hint})
    except ToolFailed:
        found = {}
    customer_id = found.get("customer_id")
    if not customer_id:
        return _unknown(state, runtime)
    destinations = found.get("destinations") or {}
    return Command(
        goto="send_code",
        update=VerifyState(
            customer_id=customer_id,
            name=found.get("display_name", ""),
            sms=destinations.get("sms"),
            email=destinations.get("email"),
        ),
    )


def _unknown(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    misses = int(state.get("misses", 0)) + 1
    if misses >= MAX_MISSES:
        return finish(
            turn.reply(
                "I still can't find an account with those details, so I'll stop trying here. "
                "A member of our team can help you confirm who you are.",
                "failed",
                summary="customer not found after 3 tries",
                handoff_to=HUMAN.model_copy(update={"reason": "identity could not be confirmed"}),
            )
        )
    return say_then_wait(
        "I couldn't find an account with those details. Could you check and send the email address, "
        "phone number or account number again?",
        summary=f"identifier not found ({misses} of {MAX_MISSES})",
        then="identify",
        data=ASKING_IDENTIFIER,
        update={"misses": misses},
    )


async def send_code(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    channel = "sms" if state.get("sms") or not state.get("email") else "email"
    sent = await turn.call(
        "identity.start_verification",
        {"customer_id": state["customer_id"], "channel": channel, "conversation_id": turn.envelope.conversation_id},
    )
    sent_to = mask_tail(sent.get("sent_to") or (state.get("sms") if channel == "sms" else state.get("email")))
    where = f"by text to {sent_to}" if channel == "sms" else f"by email to {sent_to}"
    return say_then_wait(
        f"Thanks. I've sent a 6-digit code {where}. Please type it here when it arrives.",
        summary="verification code sent",
        then="check_code",
        data=ASKING_CODE,
        update={"verification_id": sent["verification_id"], "sent_to": sent_to},
    )


async def check_code(state: VerifyState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    code = find_code(turn.text)
    if code is None:
        if any(w in turn.text.lower() for w in _RESEND_WORDS):
            return Command(goto="send_code")
        return say_then_wait(
            f"Please type the 6-digit code I sent to {state.get('sent_to') or 'you'}.",
            summary="waiting for the code",
            then="check_code",
            data=ASKING_CODE,
        )
    checked = await turn.call(
        "identity.verify_code",
        {
            "customer_id": state["customer_id"],
            "verification_id": state["verification_id"],
            "code": code,
            "conversation_id": turn.envelope.conversation_id,
        },
    )
    if checked.get("verified"):
        customer = CustomerRef.model_validate(checked["customer"])
        name = customer.display_name or state.get("name", "")
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
    if checked.get("locked") or int(checked.get("attempts_left", 0)) <= 0:
        return finish(
            turn.reply(
                "That code didn't match and, for your security, verification is now locked for a while. "
                "A member of our team can help you. Would you like me to connect you?",
                "failed",
                summary="verification locked after wrong codes",
                handoff_to=HUMAN.model_copy(update={"reason": "verification locked"}),
                data={"locked": True},
            )
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
