"""``verify-identity``: identifier -> send a code (if it matches) -> check the code.

Nothing said before verification depends on whether the identifier matches an account, and
no contact detail is shown: the identity system answers known and unknown identifiers alike,
and this agent never looks the customer up first.

skill_state: ``step`` (ask-hint | await-code | paused), ``identifier``, ``verification_id``,
``sent_to`` ("the email address or mobile number on the account"), ``pauses``.
"""

from __future__ import annotations

from typing import Any

from agents.runtime import Reply, ToolFailed, Turn
from agents.runtime.outcomes import HUMAN
from agents.runtime.text import find_code, find_customer_hint
from shared.envelope import CustomerRef

MAX_PAUSES = 2
_ASK = "To confirm who you are, please tell me the email address, phone number or account number on your account."
_OTHER_WAY = (
    "For your security I can't send or check a code for those details right now. You can try another "
    "contact detail on the account (your email address or mobile number), or I can connect you with a colleague."
)
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
    state["identifier"] = hint
    return await _send_code(turn, state)


async def _send_code(turn: Turn, state: dict[str, Any]) -> Reply:
    try:
        sent = await turn.call(
            "identity.start_verification",
            {"identifier": state["identifier"], "channel": "any", "conversation_id": turn.envelope.conversation_id},
        )
    except ToolFailed:
        return _paused(turn, state)
    sent_to = str(sent.get("sent_to") or "the contact details on the account")
    state.update(step="await-code", verification_id=sent["verification_id"], sent_to=sent_to)
    return turn.reply(
        f"Thanks. If those details match an account, I've sent a 6-digit code to {sent_to}. "
        "Please type it here when it arrives.",
        "input-required",
        summary="verification code requested",
        state=state,
    )


def _paused(turn: Turn, state: dict[str, Any], opening: str = "") -> Reply:
    """This way is exhausted (resends, guesses): offer another contact detail, then a human."""
    pauses = int(state.get("pauses", 0)) + 1
    state.update(step="ask-hint", pauses=pauses)
    if pauses >= MAX_PAUSES:
        return turn.reply(
            "For your security I'll stop trying codes here. A member of our team can help you confirm who you are.",
            "failed",
            summary="verification paused twice; handed to a human",
            state=state,
            handoff_to=HUMAN.model_copy(update={"reason": "identity could not be confirmed"}),
            data={"locked": True},
        )
    return turn.reply(
        opening + _OTHER_WAY, "input-required", summary="verification paused for those details", state=state
    )


async def _check_code(turn: Turn, state: dict[str, Any]) -> Reply:
    code = find_code(turn.text)
    if code is None:
        if find_customer_hint(turn.text) is not None:  # a corrected or different identifier
            return await _identify(turn, state)
        if any(w in turn.text.lower() for w in _RESEND_WORDS):
            return await _send_code(turn, state)  # capped by the identity system, not here
        return turn.reply(
            f"Please type the 6-digit code I sent to {state.get('sent_to', 'you')}.",
            "input-required",
            summary="waiting for the code",
            state=state,
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
        return await _send_code(turn, state)
    if checked.get("verified"):
        customer = CustomerRef.model_validate(checked["customer"])
        name = customer.display_name
        return turn.reply(
            f"Thank you{', ' + name if name else ''}, you're verified.",
            "completed",
            summary=f"verified {customer.customer_id} by one-time code",
            auth_context=checked["auth_context"],
            customer=customer,
            data={"customer_id": customer.customer_id, "verified": True},
        )
    if checked.get("locked"):
        return _paused(turn, state, "That code didn't match. ")
    if int(checked.get("attempts_left", 0)) <= 0:
        return turn.reply(
            "That code didn't match, and that code can't be used again. Say \"new code\" and I'll send another "
            "if the details match an account.",
            "input-required",
            summary="wrong code, that code is used up",
            state=state,
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
