"""Answers to a clarifying question, in the words customers use for them.

When the router is unsure, the supervisor offers two or three options. The next message may
name one ("the bill one", "blocking my SIM"), count to it ("the second", "1"), say a bare "yes"
or "no", or ask for something else altogether. A bare "yes" picks the first option only when
the router's scores, computed when the question was asked, put it clearly ahead; otherwise the
customer is asked again, because guessing could start the wrong money or data action.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from orchestrator import wording
from orchestrator.conversations import Clarification, ClarifyOption
from orchestrator.routing import RouteDecision
from shared.yes_no import read

__all__ = ["ClarifyAnswer", "ask_again", "declined", "offered", "understand"]

# How far ahead the first option must be for a bare "yes" to choose it: at least this share of
# the options' scores, and at least twice the next one.
_AHEAD_SCORE = 0.4
_AHEAD_RATIO = 2.0
# A message this long that the router confidently sends elsewhere is a new request, not an answer.
_NEW_REQUEST_WORDS = 5

_STOP = frozenset(
    {
        "a", "an", "the", "of", "or", "and", "to", "for", "with", "about", "on", "in", "at", "my", "your", "me",
        "i", "it", "is", "this", "that", "one", "please", "just", "want", "need", "would", "like", "do", "did",
        "can", "could", "its", "it's", "yes", "yeah", "ok", "okay",
    }
)  # fmt: skip
_ORDINALS = {"first": 0, "1st": 0, "former": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_LAST = frozenset({"last", "latter"})
_DIGIT = re.compile(r"\b([123])\b")
_NEITHER = re.compile(
    r"\b(neither|none|nothing like that|something else|not (those|these|that|either|any)|other thing)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SUFFIX = re.compile(r"(ing|ed|es|s|e)$")

Kind = Literal["picked", "declined", "unsure", "other"]


@dataclass(frozen=True)
class ClarifyAnswer:
    """What the customer's message says about the options they were offered."""

    kind: Kind
    option: ClarifyOption | None = None


def offered(decision: RouteDecision, labels: wording.Labels) -> list[ClarifyOption]:
    """The options ``wording.clarifying_question`` names for ``decision``, with their scores."""
    found: list[ClarifyOption] = []
    for label in wording.options(decision, labels):
        alternative = next(a for a in decision.alternatives if labels.get((a.agent, a.skill)) == label)
        option = ClarifyOption(agent=alternative.agent, skill=alternative.skill, label=label, score=alternative.score)
        found.append(option)
    return found


def understand(text: str, asked: Clarification, decision: RouteDecision, threshold: float) -> ClarifyAnswer:
    """Which option ``text`` chooses, whether it turns them all down, or that it is about something else."""
    options = asked.options
    words = _words(text)
    if decision.routes(threshold):
        chosen = next((o for o in options if (o.agent, o.skill) == (decision.agent, decision.skill)), None)
        if chosen is not None:
            return ClarifyAnswer("picked", chosen)
        if len(words) >= _NEW_REQUEST_WORDS:
            return ClarifyAnswer("other")
    if (index := _ordinal(words, len(options))) is not None:
        return ClarifyAnswer("picked", options[index]) if index < len(options) else ClarifyAnswer("unsure")
    if (named := _named(words, options)) is not None:
        return ClarifyAnswer("picked", named)
    if _NEITHER.search(text):
        return ClarifyAnswer("declined")
    answer = read(text).short()
    if answer is False:
        return ClarifyAnswer("declined")
    if answer is True:
        return ClarifyAnswer("picked", options[0]) if _clearly_ahead(options) else ClarifyAnswer("unsure")
    return ClarifyAnswer("other")


def ask_again(asked: Clarification) -> str:
    """The options once more, briefly, with the words that choose each."""
    counted = ("the first", "the second", "the third")[: len(asked.options)]
    choices = [o.label for o in asked.options]
    return (
        f"Sorry, which one do you mean: {wording.either(choices)}? "
        f"You can just say {wording.either([f'“{c}”' for c in counted])}."
    )


def declined(has_human: bool) -> str:
    """None of the options fit: ask in the customer's own words, and offer a person."""
    ask = "Sorry I didn't get that right. Could you tell me in a few words what you need?"
    return f"{ask} Or say yes and I'll put you through to a colleague." if has_human else ask


def _clearly_ahead(options: list[ClarifyOption]) -> bool:
    first, second = options[0].score, options[1].score
    total = sum(o.score for o in options) or 1.0
    return first / total >= _AHEAD_SCORE and first >= _AHEAD_RATIO * second


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _ordinal(words: list[str], count: int) -> int | None:
    """The option counted to: "the second", "the last one", or a bare digit in a short reply."""
    for word in words:
        if word in _ORDINALS:
            return _ORDINALS[word]
        if word in _LAST:
            return count - 1
    if len(words) <= 3:
        digits = [int(w) for w in words if _DIGIT.fullmatch(w)]
        if len(digits) == 1:
            return digits[0] - 1
    return None


def _stem(word: str) -> str:
    return _SUFFIX.sub("", word) if len(word) > 4 else word


def _same(said: str, label: str) -> bool:
    """A word of the label, said in another form ("blocking" for "block") or with a typo."""
    if _stem(said) == _stem(label):
        return True
    return len(said) >= 5 and difflib.SequenceMatcher(None, said, label).ratio() >= 0.85


def _named(words: list[str], options: list[ClarifyOption]) -> ClarifyOption | None:
    """The one option whose key words the customer used most; None on a tie or no match."""
    said = [w for w in words if w not in _STOP and len(w) >= 3]
    scores = []
    for option in options:
        keys = {w for w in _words(option.label) if w not in _STOP and len(w) >= 3}
        scores.append(sum(1 for w in said if any(_same(w, k) for k in keys)))
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
        return None
    return options[scores.index(best)]
