"""What the supervisor says itself is plain, short and in the customer's terms."""

from __future__ import annotations

import pytest

from orchestrator import wording
from orchestrator.routing import RouteAlternative, RouteDecision
from shared.skills import load_skills

LABELS = {(s.agent, s.name): s.customer_label for s in load_skills()}
DESCRIPTIONS = [s.description for s in load_skills()]


def _unsure(*routes: tuple[str, str, float]) -> RouteDecision:
    alternatives = [RouteAlternative(agent=a, skill=s, score=p) for a, s, p in routes]
    return RouteDecision(agent=routes[0][0], skill=routes[0][1], confidence=0.3, reason="", alternatives=alternatives)


def test_a_clarifying_question_offers_two_or_three_labels_never_descriptions() -> None:
    refund, history, bill = ("payment", "refund-charge"), ("payment", "payment-history"), ("billing", "explain-bill")
    two = wording.clarifying_question(_unsure((*refund, 0.4), (*history, 0.35), (*bill, 0.03)), LABELS)
    assert two == (
        "Just so I help with the right thing: is this about getting a refund for a charge "
        "or checking your payments and refunds?"
    )
    three = wording.clarifying_question(_unsure((*refund, 0.4), (*history, 0.3), (*bill, 0.2)), LABELS)
    assert all(LABELS[k] in three for k in (refund, history, bill))
    for text in (two, three):
        assert not any(d[:30] in text for d in DESCRIPTIONS)


def test_a_message_with_no_goal_gets_an_open_question_with_examples() -> None:
    decision = RouteDecision(agent=None, skill=None, confidence=0.8, reason="", intent="unclear")
    assert wording.clarifying_question(decision, LABELS).startswith("Of course. What can I help you with today?")


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("thanks, that's all for today", "You're welcome!"),
        ("bye", "You're welcome!"),
        ("hi there", "Hello!"),
        ("how are you doing", "I'm doing well"),
        ("are you a bot?", "I'm Northwind Mobile's virtual assistant"),
        ("what's the capital of spain", "I'm only able to help"),
    ],
)
def test_small_talk_gets_a_natural_answer(text: str, start: str) -> None:
    assert wording.small_talk(text, LABELS).startswith(start)


@pytest.mark.parametrize(
    ("language", "english", "yes"),
    [("es", "inglés", "sí"), ("de", "Englisch", "ja"), ("fr", "anglais", "oui"), ("it", "inglese", "sì"),
     ("pt", "inglês", "sim"), ("pl", "angielsku", "tak")],
)  # fmt: skip
def test_other_languages_are_told_what_we_serve_in_their_language(language: str, english: str, yes: str) -> None:
    text = wording.other_language(language)
    assert english in text and yes in text
    assert yes in wording.YES_WORDS


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(42, "GBP", "£42.00"), ("9.5", "EUR", "€9.50"), (1234.5, "USD", "$1,234.50"), (12, "CHF", "12.00 CHF"),
     (3, None, "£3.00")],
)  # fmt: skip
def test_amounts_always_carry_their_currency(amount: float, currency: str | None, text: str) -> None:
    assert wording.money(amount, currency) == text


def test_a_second_request_is_announced_and_taken_up_by_its_label() -> None:
    assert wording.queued("a question about your bill", "changing your plan") == (
        "Let's start with a question about your bill. After this I'll help with changing your plan."
    )
    assert wording.taking_up("changing your plan") == "Now, you also asked about changing your plan."
