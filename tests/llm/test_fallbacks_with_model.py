"""A misbehaving provider (time-outs, 5xx, garbage, malformed answers) behind the whole stack.

Every model step falls back to the offline brain, and the customer reads ordinary replies.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat
from tests.llm.provider import GARBAGE, HANG, Seen, say
from tests.llm.stack import LLMRunning

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

STRANGE = ("litellm", "model", "Traceback", "500", "timed out", "schema", "provider", "error", "json")


def malformed(seen: Seen) -> dict:
    """Answers of the wrong shape: prose where JSON was asked, nothing where a reply was."""
    return say("Sure! Let me route that to billing." if seen.kind == "route" else "")


def _plain(reply: str) -> None:
    assert reply.strip() and not [w for w in STRANGE if w.lower() in reply.lower()], reply


@pytest.mark.parametrize(
    ("failure", "index"),
    [(503, 131), (GARBAGE, 132), ("malformed", 133)],
    ids=["http-5xx", "not-json", "malformed-answers"],
)
async def test_a_failing_provider_leaves_the_offline_brain_in_charge(
    llm_chat: Chat, llm_running: LLMRunning, failure: object, index: int
) -> None:
    llm_running.provider.script = malformed if failure == "malformed" else (lambda seen: failure)
    customer = llm_running.running.customers(240)[index]

    bill = await llm_chat.verify(customer, "can you explain my latest bill?")

    assert (bill["agent"], bill["skill"], bill["status"]) == ("billing", "explain-bill", "completed"), bill
    assert bill["data"].get("llm_fallback") is True  # the hand-written procedure answered
    for outcome in llm_chat.outcomes:
        _plain(outcome["reply"])
    first = llm_chat.outcomes[0]["route"]
    assert first["brain"] == "offline (fallback from llm:openai/gpt-4o-mini)", first
    assert (first["agent"], first["skill"]) == ("billing", "explain-bill")
    assert llm_running.provider.seen("route") and llm_running.provider.seen("loop", "billing")


async def test_a_provider_that_never_answers_times_out_into_the_offline_brain(
    llm_chat: Chat, llm_running: LLMRunning
) -> None:
    llm_running.provider.script = lambda seen: HANG

    asked = await llm_chat.say("can you explain my latest bill?")

    assert (asked["agent"], asked["status"]) == ("identity", "input-required"), asked
    _plain(asked["reply"])
    assert asked["route"]["brain"] == "offline (fallback from llm:openai/gpt-4o-mini)"
    assert "did not answer in time" in asked["route"]["reason"]  # the trace says why; the customer does not
