"""``verify-identity``: identifier -> resolve -> send a code -> check the code.

skill_state: ``step`` (ask-hint | await-code), ``misses`` (unknown identifiers so far),
``customer_id``, ``verification_id``, ``sent_to``, ``name``.
"""

from __future__ import annotations

from typing import Any

from agents.runtime import Reply, ToolFailed, Turn
from agents.runtime.outcomes import HUMAN
from agents.runtime.text import find_code, find_customer_hint, mask_tail
from shared.envelope import CustomerRef

MAX_MISSES = 3
_ASK = "To confirm who you are, please tell me the email address, phone number or account number on your account."
_RESEND_WORDS = ("resend", "new code", "another code", "didn't get", "didnt get", "not received", "no code")


async def verify_identity(turn: Turn) -> Reply:
    if turn.envelope.customer and turn.envelope.auth_context:
        name = turn.envelope.customer.display_name
        return turn.reply(
            f"You're already verified{', ' + name if name else ''}, so there's no need to do it again.",
            "completed",
            summary="already verified",
            auth_context=turn.envelope.auth_context,
            customer=turn.envelope.customer,
            data={"customer_id": turn.envelope.customer.customer_id, "already_verified": True},
        )
    state = dict(turn.state)
    if state.get("step") == "await-code":
        return await _check_code(turn, state)
    return await _identify(turn, state)


async def _identify(turn: Turn, state: dict[str, Any]) -> Reply:
    hint = find_customer_hint(turn.text)
    if hint is None:
        state["step"] = "ask-hint"
        return turn.reply(_ASK, "input-required", summary="asked for an identifier", state=state)
    try:
        found = await turn.call("identity.resolve_customer", {"hint": hint})
    except ToolFailed:
        found = {}
    customer_id = found.get("customer_id")
    if not customer_id:
        return _unknown(turn, state)
    state.update(customer_id=customer_id, name=found.get("display_name", ""))
    return await _send_code(turn, state, found.get("destinations") or {})


def _unknown(turn: Turn, state: dict[str, Any]) -> Reply:
    misses = int(state.get("misses", 0)) + 1
    state.update(step="ask-hint", misses=misses)
    if misses >= MAX_MISSES:
        return turn.reply(
            "I still can't find an account with those details, so I'll stop trying here. "
            "A member of our team can help you confirm who you are.",
            "failed",
            summary="customer not found after 3 tries",
            state=state,
            handoff_to=HUMAN.model_copy(update={"reason": "identity could not be confirmed"}),
        )
    return turn.reply(
        "I couldn't find an account with those details. Could you check and send the email address, "
        "phone number or account number again?",
        "input-required",
        summary=f"identifier not found ({misses} of {MAX_MISSES})",
        state=state,
    )


async def _send_code(turn: Turn, state: dict[str, Any], destinations: dict[str, Any]) -> Reply:
    channel = "sms" if destinations.get("sms") or not destinations.get("email") else "email"
    sent = await turn.call(
        "identity.start_verification",
        {
            "customer_id": state["customer_id"],
            "channel": channel,
            "conversation_id": turn.envelope.conversation_id,
        },
    )
    sent_to = mask_tail(sent.get("sent_to") or destinations.get(channel))
    state.update(step="await-code", verification_id=sent["verification_id"], sent_to=sent_to)
    where = f"by text to {sent_to}" if channel == "sms" else f"by email to {sent_to}"
    return turn.reply(
        f"Thanks. I've sent a 6-digit code {where}. Please type it here when it arrives.",
        "input-required",
        summary="verification code sent",
        state=state,
    )


async def _check_code(turn: Turn, state: dict[str, Any]) -> Reply:
    code = find_code(turn.text)
    if code is None:
        if any(w in turn.text.lower() for w in _RESEND_WORDS):
            return await _send_code(turn, state, {"sms": state.get("sent_to")})
        return turn.reply(
            f"Please type the 6-digit code I sent to {state.get('sent_to', 'you')}.",
            "input-required",
            summary="waiting for the code",
            state=state,
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
        return turn.reply(
            f"Thank you{', ' + name if name else ''}, you're verified.",
            "completed",
            summary=f"verified {customer.customer_id} by one-time code",
            auth_context=checked["auth_context"],
            customer=customer,
            data={"customer_id": customer.customer_id, "verified": True},
        )
    if checked.get("locked") or int(checked.get("attempts_left", 0)) <= 0:
        return turn.reply(
            "That code didn't match and, for your security, verification is now locked for a while. "
            "A member of our team can help you. Would you like me to connect you?",
            "failed",
            summary="verification locked after wrong codes",
            state={**state, "step": "locked"},
            handoff_to=HUMAN.model_copy(update={"reason": "verification locked"}),
            data={"locked": True},
        )
    left = int(checked["attempts_left"])
    return turn.reply(
        f"That code didn't match. You have {left} attempt{'s' if left != 1 else ''} left. "
        "Please check the message and try again.",
        "input-required",
        summary=f"wrong code, {left} attempts left",
        state=state,
        data={"attempts_left": left},
    )
