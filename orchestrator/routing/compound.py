"""Finding two requests in one message ("why is my bill so high, and also can I get more data").

A message is cut where customers join requests (a sentence end, "also", "plus", "and then",
"and" before a new clause) and each side is routed on its own. It holds two requests only when
both sides are confidently different skills; otherwise it is one request, routed whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

# A cut point: the text before it is the first request, the text after it the second.
_JOINS = re.compile(
    r"(?:[.;!?]+\s+(?:(?:oh|and|also|then|plus)\b[\s,]*)*"
    r"|,?\s+(?:and\s+)?(?:also|plus|then|and after that|and another thing|as well as|oh and)\b[\s,:]*"
    r"|,?\s+and\s+(?=(?:i|can|could|please|what|why|when|how|where|is|are|do|did|my|also|then|check|show|tell|give)\b))",
    re.IGNORECASE,
)
# Joins that announce another request: what follows them is asked for, not told as a story
# ("then" also carries a story on: "i paid and then the direct debit took it too").
_ANNOUNCED = re.compile(r"\b(?:also|plus|another thing|oh and|as well as|after that)\b", re.IGNORECASE)
# Clause ends inside one request: framing ("hi, sorry to bother you, ...") lives in its own clause.
_CLAUSES = re.compile(r"[,:]\s+|\s+-\s+")
MIN_WORDS = 3
MAX_CUTS = 4
MAX_CLAUSES = 6


class Cut(NamedTuple):
    """A message cut where customers join requests: the text before and after, and whether the
    join itself announces another request ("also", "oh and")."""

    before: str
    after: str
    announced: bool


@dataclass(frozen=True)
class Part:
    """One side of a cut: the skill it routes to and how sure that is."""

    index: int
    confidence: float
    text: str = ""


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` worth routing on their own (two words or more), at most a few."""
    pieces: list[str] = []
    start = 0
    for cut in _JOINS.finditer(text):
        pieces.append(text[start : cut.start()])
        start = cut.end()
    pieces.append(text[start:])
    out = [c.strip() for p in pieces for c in _CLAUSES.split(p)]
    return [c for c in out if len(c.split()) >= 2][:MAX_CLAUSES]


def split_requests(
    text: str,
    classify: Callable[[str], Part | None],
    *,
    min_confidence: float,
    told: Callable[[Part, Part], bool] = lambda first, second: False,
) -> tuple[Part, Part] | None:
    """The first and second requests in ``text``, or None when it holds one (or it is unsure).

    ``classify`` routes a piece of text to a skill index with its confidence, or None when the
    piece is not a request for a skill (small talk, a goal not said yet). ``told`` says whether
    one side only tells the other's story ("i lost my job and can't pay the bill"): then the cut
    holds one request, unless its join announces another one.
    """
    best: tuple[Part, Part] | None = None
    for left, right, announced in first_and_rest(text):
        # The second side is read only when the first can make a request: it costs a scoring.
        first = classify(left)
        if first is None or first.confidence < min_confidence:
            continue
        second = classify(right)
        if second is None or first.index == second.index or second.confidence < min_confidence:
            continue
        if not announced and told(first, second):
            continue
        if best is None or min(first.confidence, second.confidence) > min(best[0].confidence, best[1].confidence):
            best = (first, second)
    return best


def first_and_rest(text: str) -> list[Cut]:
    """Each cut of ``text`` where customers join requests, both sides long enough."""
    out: list[Cut] = []
    for cut in list(_JOINS.finditer(text))[:MAX_CUTS]:
        left, right = text[: cut.start()].strip(" ,"), text[cut.end() :].strip(" ,")
        if len(left.split()) >= MIN_WORDS and len(right.split()) >= MIN_WORDS:
            # The announcing words may start the second side: "; and after that ...".
            announced = _ANNOUNCED.search(cut.group()) or _ANNOUNCED.match(right)
            out.append(Cut(left, right, bool(announced)))
    return out
