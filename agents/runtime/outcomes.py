"""Replies every specialist gives the same way: denials, dead systems, missing verification."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.turn import Reply, Turn
from shared.handoff import HandoffTarget

HUMAN = HandoffTarget(agent="escalation", skill="human-handoff", reason="")
VERIFY = HandoffTarget(agent="identity", skill="verify-identity", reason="")

# What the customer is told cannot be done, per tool; internals (policy ids, reasons) stay out.
_ACTIONS = {
    "payments.issue_refund": "issue that refund",
    "payments.list_charges": "look at your payments",
    "payments.find_duplicate_charges": "check your payments",
    "payments.list_refunds": "look at your refunds",
    "billing.change_plan": "change your plan",
    "billing.list_invoices": "look at your bills",
    "billing.get_account": "look at your billing account",
    "billing.list_plans": "look up our plans",
    "billing.get_entitlements": "check what your plan includes",
    "support.open_ticket": "open a support ticket",
    "support.list_tickets": "look up your tickets",
    "support.request_human": "reach our team",
    "network.get_line_status": "check your line",
    "crm.list_interactions": "look at your earlier contacts",
    "identity.resolve_customer": "look up your account",
    "identity.start_verification": "send you a verification code",
    "identity.verify_code": "check that code",
}

_HOLD_WORDS = re.compile(r"\b(hold|held|paused|fraud|sim[ -]?swap)\b", re.IGNORECASE)
# The gateway's own words when its network fact (not a hold someone placed) paused the call.
_SIM_CHANGE = re.compile(r"\bSIM change on the line at\b")


def action_phrase(tool: str) -> str:
    return _ACTIONS.get(tool, "do that")


def _sim_paused(turn: Turn, exc: ToolDenied) -> Reply:
    """The gateway paused money for a recently changed SIM: say why plainly, and what to do next."""
    text = (
        "Because the SIM card on your line was changed recently, refunds and payments on your account are "
        f"paused for your protection, so I can't {action_phrase(exc.tool)} right now. If you changed your SIM "
        "yourself, a member of our team can confirm it's really you and lift the pause. If you didn't, please "
        "call us straight away from another phone so we can secure your line. "
        "Would you like me to connect you with a member of our team now?"
    )
    return turn.reply(
        text,
        "rejected",
        summary=f"paused for a recent SIM change: {exc.tool}",
        data={"denied": True, "denied_tool": exc.tool, "sim_change_pause": True},
        handoff_to=HUMAN.model_copy(
            update={"reason": "payment paused: the SIM on the line changed recently", "priority": "urgent"}
        ),
    )


def denied(turn: Turn, exc: ToolDenied) -> Reply:
    if _SIM_CHANGE.search(exc.reason):
        return _sim_paused(turn, exc)
    if _HOLD_WORDS.search(exc.reason):
        # A protective hold is the customer's own safety; saying so is not an internal detail.
        text = (
            f"For your protection, some actions on your account are paused right now, so I can't "
            f"{action_phrase(exc.tool)}. A member of our team will follow up with you."
        )
    else:
        text = (
            f"I'm sorry, I'm not able to {action_phrase(exc.tool)} for you here. "
            "If you'd like, I can connect you with a member of our team."
        )
    return turn.reply(
        text,
        "rejected",
        summary=f"not allowed: {exc.tool}",
        data={"denied": True, "denied_tool": exc.tool},
    )


def unavailable(turn: Turn, exc: SystemUnavailable) -> Reply:
    if "may or may not" in exc.detail:
        # A write timed out after it was sent: promising "nothing changed" could be false.
        outcome = "I can't confirm whether it went through, so I won't try again without checking. Nothing is lost."
    else:
        outcome = "Nothing has been changed or lost."
    text = (
        "I'm sorry, one of our systems isn't answering right now, so I couldn't finish this. "
        f"{outcome} Would you like me to connect you with a member of our team?"
    )
    handoff = (
        None
        if turn.agent == "escalation"
        else HUMAN.model_copy(update={"reason": f"{exc.tool} unavailable during {turn.skill}"})
    )
    return turn.reply(
        text,
        "failed",
        summary=f"{exc.tool} unavailable",
        handoff_to=handoff,
        data={"unavailable": exc.tool},
    )


def tool_failed(turn: Turn, exc: ToolFailed) -> Reply:
    text = (
        f"I'm sorry, I couldn't {action_phrase(exc.tool)} just now. "
        "Nothing has been changed. Would you like me to connect you with a member of our team?"
    )
    return turn.reply(
        text,
        "failed",
        summary=f"{exc.tool} failed",
        handoff_to=HUMAN.model_copy(update={"reason": f"{exc.tool} failed during {turn.skill}"}),
        data={"failed_tool": exc.tool},
    )


def state_lost(turn: Turn) -> Reply:
    """The caller continued a task this agent has nothing waiting for (it was pruned or cancelled)."""
    return turn.reply(
        "I'm sorry, I've lost track of where we were with this. Could you tell me again what you need?",
        "failed",
        summary="nothing was waiting on this task",
    )


def hand_over(
    turn: Turn, *, reason: str, priority: Literal["normal", "high", "urgent"] = "normal", summary: str = ""
) -> Reply:
    """Offer the customer a person, in the skill's words (its ``handover`` message).

    ``reason`` and ``priority`` are what the human's case will say: the supervisor passes them to
    the escalation agent when the customer accepts.
    """
    text = turn.messages.get("handover") or (
        "I can put you through to a member of our team who can help with this. Would you like that?"
    )
    return turn.reply(
        text,
        "completed",
        summary=summary or f"hand-over offered: {reason}",
        handoff_to=HUMAN.model_copy(update={"reason": reason, "priority": priority}),
    )


def needs_verification(turn: Turn, *keys: str) -> Reply | None:
    """A reply asking the supervisor to verify the customer first, or None when we may go on."""
    present = turn.keys
    if present is not None and turn.envelope.auth_context and all(present.get(k) for k in keys):
        return None
    return turn.reply(
        "Before I can help with that I need to confirm who you are.",
        "auth-required",
        summary="customer not verified",
        handoff_to=VERIFY.model_copy(update={"reason": f"{turn.skill} needs a verified customer"}),
    )


async def log_interaction(turn: Turn, *, summary: str, outcome: str) -> None:
    """Record the finished skill in CRM; a failure here never spoils the customer's answer."""
    keys = turn.keys
    if keys is None or not keys.email or not turn.envelope.auth_context:
        return
    args: dict[str, Any] = {
        "email": keys.email,
        "channel": turn.envelope.channel,
        "topic": turn.skill,
        "summary": summary[:300],
        "outcome": outcome,
        "conversation_id": turn.envelope.conversation_id,
    }
    digest = hashlib.sha256(f"{outcome}|{summary}".encode()).hexdigest()[:12]
    await turn.try_call("crm.log_interaction", args, step=f"log-interaction:{digest}")
