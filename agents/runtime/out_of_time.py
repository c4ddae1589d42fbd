"""What a customer is told when their turn runs out of time: the truth about what was done.

A turn that runs out of time stops before its next tool call, so nothing more happens; whatever
already happened is said plainly ("I've sent you a code"), never hidden behind "it failed".
"""

from __future__ import annotations

from agents.runtime.outcomes import HUMAN
from agents.runtime.turn import Reply, Turn

# Side effects a customer must hear about when a turn stops after them.
_DONE = {
    "identity.start_verification": "I've sent you a verification code",
    "payments.issue_refund": "your refund has been issued",
    "billing.change_plan": "your plan has been changed",
    "support.open_ticket": "I've opened a support ticket for you",
    "support.request_human": "a colleague has been asked to join",
}


def done_so_far(turn: Turn) -> list[str]:
    """The side effects this turn's calls had, as the customer would say them, in order."""
    said: list[str] = []
    for call in turn.tool_calls:
        phrase = _DONE.get(call.tool)
        if call.ok and phrase is not None and phrase not in said:
            said.append(phrase)
    return said


def out_of_time(turn: Turn) -> Reply:
    done = done_so_far(turn)
    if done:
        happened = f"So you know where things stand: {'; '.join(done)}. Nothing else was changed."
    else:
        happened = "Nothing has been changed."
    text = (
        f"I'm sorry, this is taking longer than it should, so I've stopped here. {happened} "
        "You can try again in a moment, or say 'yes' and I'll bring in a human colleague."
    )
    handoff = None if turn.agent == HUMAN.agent else HUMAN.model_copy(update={"reason": "turn ran out of time"})
    return turn.reply(
        text, "failed", summary="ran out of time", handoff_to=handoff, data={"out_of_time": True, "done": done}
    )
