"""Everyday customer-service requests, worded as any company's customers word them, reach the
specialist that owns them (or a polite "not here" when nobody does)."""

from __future__ import annotations

import pytest

from orchestrator.routing import OfflineBrain
from orchestrator.routing.text import normalize
from shared.settings import Settings
from shared.skills import load_skills

THRESHOLD = Settings().route_threshold

# (message, the specialist that owns it): written for this test, not copied from the routing set.
OWNED = [
    ("forgot my pasword for the website", "identity"),
    ("pls help me get back my password", "identity"),
    ("could you tell me how to reset my pwd", "identity"),
    ("need to change the addr on my acct", "identity"),
    ("my pymt didnt go thru again", "payment"),
    ("there's something wrong with my registration", "identity"),
    ("I'd like to modify the email on my profile", "identity"),
    ("how can I swap to my other account", "identity"),
    ("how do I go about creating an account with you", "billing"),
    ("I wanna delete my account", "billing"),
    ("what would the fee be to cancel my contract", "billing"),
    ("can you tell me how to see my invoice", "billing"),
    ("I need my invoice from last month", "billing"),
    ("I'm having a problem paying my bill", "payment"),
    ("what ways can I pay you", "payment"),
    ("what is the policy on refunds", "payment"),
    ("I want my money back please", "payment"),
    ("how can I track the refund you promised", "payment"),
    ("I'd like to order a new sim", "support"),
    ("where's my parcel", "support"),
    ("can I cancel the order I made yesterday", "support"),
    ("how long will delivery take", "support"),
    ("I need to update the delivery address of my order", "support"),
    ("I want to make a complaint about your service", "support"),
    ("I'd like to leave a review", "support"),
    ("how do I get in touch with customer services", "escalation"),
]


@pytest.mark.parametrize(("message", "agent"), OWNED, ids=[m for m, _ in OWNED])
def test_a_generic_request_reaches_its_specialist(brain: OfflineBrain, message: str, agent: str) -> None:
    decision = brain.decide(message)
    guess = decision.agent or decision.alternatives[0].agent
    assert guess == agent, decision.reason


def test_a_newsletter_request_is_politely_out_of_scope(brain: OfflineBrain) -> None:
    decision = brain.decide("please add me to your newsletter")
    assert decision.intent == "out-of-scope", decision.reason


def test_the_messages_are_not_the_skills_examples() -> None:
    examples = {normalize(e) for s in load_skills() for e in s.examples}
    assert not [m for m, _ in OWNED if normalize(m) in examples]
