"""The hand-over summary a human agent reads first, written by the model when one is configured.

The model sees the case with identifiers masked (the human's console shows the verified customer
anyway) and fenced as data. Without a model, or when it fails, the supervisor's own short summary
is used, so a hand-over never waits on a model.
"""

from __future__ import annotations

import logging

from agents.runtime import Turn
from agents.runtime.llm import ModelUnavailable, Usage
from agents.runtime.llm.prompts import RULES
from shared.llm.redact import redact_text

logger = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 300
_TASK = (
    "\nWrite a hand-over note for the human colleague taking this conversation: what the customer "
    "wants, what was already done, what is still open. At most three sentences, no greeting."
)


async def case_summary(turn: Turn) -> tuple[str, Usage]:
    """The summary for ``support.request_human`` and the model usage it cost."""
    fallback = (turn.envelope.summary or turn.text or "customer asked for a person")[:MAX_SUMMARY_CHARS]
    model = turn.summary_model
    if model is None:
        return fallback, Usage()
    case = (
        f"Reason for hand-over: {turn.handoff.reason or 'customer asked for a person'}\n"
        f"Conversation so far: {turn.envelope.summary or 'nothing recorded'}\n"
        f"Customer's last message: {turn.text}"
    )
    try:
        answer = await model.complete(
            [
                {"role": "system", "content": RULES.format(agent=turn.agent or "escalation") + _TASK},
                {"role": "user", "content": f"<case>\n{redact_text(case)}\n</case>"},
            ]
        )
    except ModelUnavailable as exc:
        logger.warning("hand-over summary falls back to the supervisor's: %s", exc)
        return fallback, Usage()
    text = redact_text(answer.text.strip())[:MAX_SUMMARY_CHARS]
    return (text or fallback), answer.usage
