"""Answers to a clarifying question: a label or its key words, a count, a bare yes or no."""

from __future__ import annotations

import pytest

from orchestrator import clarification
from orchestrator.conversations import Clarification, ClarifyOption
from orchestrator.routing import RouteAlternative, RouteDecision

_COPY = ClarifyOption(agent="billing", skill="invoice-copy", label="a copy of a bill", score=0.55)
_LOST = ClarifyOption(agent="support", skill="report-lost-phone", label="block the SIM of a lost phone", score=0.19)
_ESIM = ClarifyOption(agent="support", skill="esim-activation", label="setting up an eSIM", score=0.15)


def _asked(*options: ClarifyOption) -> Clarification:
    return Clarification(options=list(options), said="lost my invioce can u send it again")


def _unsure(intent: str = "unclear") -> RouteDecision:
    return RouteDecision(agent=None, skill=None, confidence=0.2, reason="test", intent=intent)  # type: ignore[arg-type]


def _routed(skill: str, agent: str = "billing") -> RouteDecision:
    alternatives = [RouteAlternative(agent=agent, skill=skill, score=0.9)]
    return RouteDecision(agent=agent, skill=skill, confidence=0.9, reason="test", alternatives=alternatives)


@pytest.mark.parametrize(
    ("text", "chosen"),
    [("the bill one", _COPY), ("a copy of a bill", _COPY), ("blocking my sim", _LOST), ("the lost phone", _LOST),
     ("the first one", _COPY), ("the second", _LOST), ("2", _LOST), ("option 1", _COPY), ("the last one", _LOST),
     ("yes", _COPY), ("yeah please", _COPY), ("no, the second one", _LOST)],
)  # fmt: skip
def test_the_customer_names_or_counts_an_option(text: str, chosen: ClarifyOption | None) -> None:
    answer = clarification.understand(text, _asked(_COPY, _LOST), _unsure(), 0.45)
    if chosen is None:
        assert answer.kind == "other"
    else:
        assert (answer.kind, answer.option) == ("picked", chosen)


def test_a_bare_yes_is_not_a_guess_when_no_option_is_clearly_ahead() -> None:
    close = _LOST.model_copy(update={"score": 0.4})
    answer = clarification.understand("yes", _asked(_COPY, close), _unsure("small-talk"), 0.45)
    assert answer.kind == "unsure"
    again = clarification.ask_again(_asked(_COPY, close))
    assert "a copy of a bill" in again and "block the SIM of a lost phone" in again and "“the second”" in again


@pytest.mark.parametrize("text", ["no", "neither", "none of them", "nope, something else"])
def test_no_or_neither_turns_the_options_down(text: str) -> None:
    assert clarification.understand(text, _asked(_COPY, _LOST), _unsure(), 0.45).kind == "declined"


def test_a_count_past_the_options_is_asked_again() -> None:
    assert clarification.understand("the third", _asked(_COPY, _LOST), _unsure(), 0.45).kind == "unsure"
    assert clarification.understand("the third", _asked(_COPY, _LOST, _ESIM), _unsure(), 0.45).option == _ESIM


def test_a_confident_route_to_an_option_picks_it_and_a_new_request_is_not_an_answer() -> None:
    asked = _asked(_COPY, _LOST)
    assert clarification.understand("send me my bill again", asked, _routed("invoice-copy"), 0.45).option == _COPY
    new_request = "actually I want to change my plan please"
    elsewhere = clarification.understand(new_request, asked, _routed("change-plan"), 0.45)
    assert elsewhere.kind == "other"


def test_offered_options_carry_the_scores_they_were_asked_with() -> None:
    decision = RouteDecision(
        agent="billing",
        skill="invoice-copy",
        confidence=0.3,
        reason="test",
        alternatives=[
            RouteAlternative(agent="billing", skill="invoice-copy", score=0.55),
            RouteAlternative(agent="support", skill="report-lost-phone", score=0.19),
            RouteAlternative(agent="support", skill="ticket-status", score=0.03),
        ],
    )
    labels = {("billing", "invoice-copy"): "a copy of a bill", ("support", "report-lost-phone"): "a lost phone"}
    options = clarification.offered(decision, labels)
    assert [(o.label, o.score) for o in options] == [("a copy of a bill", 0.55), ("a lost phone", 0.19)]
