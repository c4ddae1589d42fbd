"""``sign-in-help``: a one-time link to set a new password or finish registering online. One turn.

The customer proves who they are with a one-time code first (the verification gate); the link then
goes only to the email address on record, so a conversation can never redirect it elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import StateGraph

from agents.runtime import Reply, Turn
from agents.runtime.steps import one_step

_REGISTRATION = re.compile(
    r"\b(regist\w*|sign(ing)?[ -]?up|creat\w* (an |my )?(online )?account|set ?up (an |my )?(online )?account|"
    r"activat\w*|new account|confirmation (email|link)|verification (email|link))\b",
    re.IGNORECASE,
)


def purpose_of(text: str) -> str:
    """``registration`` when the customer is trying to create their online account, else ``password-reset``."""
    return "registration" if _REGISTRATION.search(text) else "password-reset"


async def sign_in_help(turn: Turn) -> Reply:
    assert turn.keys is not None
    purpose = purpose_of(f"{turn.handoff.reason} {turn.text}")
    sent = await turn.call(
        "identity.send_sign_in_link",
        {"customer_id": turn.keys.customer_id, "purpose": purpose},
        step=f"sign-in-link:{purpose}",
    )
    what = "set a new password" if purpose == "password-reset" else "finish setting up your online account"
    text = (
        f"I've emailed a link to {sent.get('sent_to')} so you can {what}. It works once and for an hour. "
        "If it hasn't arrived in a few minutes, please check your spam folder."
    )
    if purpose == "registration":
        text = (
            f"I've emailed a link to {sent.get('sent_to')} so you can {what}. It works once and for an hour; "
            "use the same email address when you sign in afterwards. If it hasn't arrived in a few minutes, "
            "please check your spam folder."
        )
    return turn.reply(
        text,
        "completed",
        summary=f"{purpose} link {sent.get('link_id')} sent",
        data={"purpose": purpose, "link_id": sent.get("link_id"), "expires_at": sent.get("expires_at")},
    )


def graph() -> StateGraph[Any, Any, Any, Any]:
    return one_step(sign_in_help, verified=("customer_id",))
