"""Reading a customer's yes or no: one reader for the supervisor and every specialist.

Two readings of the same words, because they answer different questions:

- ``answer``: is the whole reply a yes or a no to the question just asked? Forgiving of typos
  ("yess", "definately") and of a no said in many ways ("never mind", "don't").
- ``opening``: does the reply *start* with a plain yes or no, and how many words follow it? The
  supervisor uses it to tell an answer to the active question ("yes, cancel it") from a new
  request that happens to start politely ("ok, now change my plan please").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["OTHER_LANGUAGE_YES", "Reading", "read", "short_answer", "vouching_answer", "yes_no"]

# "Yes" in the languages whose speakers are offered a colleague in their own words.
OTHER_LANGUAGE_YES = ("si", "sí", "ja", "oui", "sì", "sim", "tak", "da")

_YES = frozenset(
    {
        "yes", "yas", "yah", "ye", "okey", "okie", "yeah", "yea", "yep", "yup", "ya", "y", "sure", "ok", "okay",
        "k", "please", "correct", "right", "confirm", "confirmed", "go", "absolutely", "definitely",
        "affirmative", "alright", "fine", "agreed", "do", "proceed",
    }
)  # fmt: skip
_NO = frozenset({"no", "nah", "nope", "n", "not", "don't", "dont", "cancel", "stop", "never", "negative"})
_YES_PHRASES = ("go ahead", "do it", "sounds good", "of course", "why not", "please do")
_NO_PHRASES = ("no thanks", "never mind", "nevermind", "don't", "do not", "not now", "hold on", "changed my mind")
# A bare answer the other way after an opening cancels it ("yes no" is not an answer).
_BARE_YES = frozenset({"yes", "yeah", "yep", "yup", "ok", "okay", "sure"})
_BARE_NO = frozenset({"no", "nah", "nope", "negative"})

# What may open a reply as a plain yes or no. Narrower than ``_YES``/``_NO``: "right, my bill" or
# "cancel my contract" open a request, not an answer.
_OPENING_YES = frozenset(
    {"yes", "yeah", "yea", "ya", "yep", "yup", "yeps", "y", "sure", "ok", "okay", "please", "alright"}
    | set(OTHER_LANGUAGE_YES)
)
_OPENING_NO = frozenset({"no", "nope", "nah"})
_OPENING_YES_PHRASES = (("go", "ahead"), ("do", "it"))
_OPENING_NO_PHRASES = (("not", "now"), ("no", "thanks"))

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@dataclass(frozen=True)
class Reading:
    """What a reply says as a yes or a no."""

    answer: bool | None
    """The reply read as a whole: True for a yes, False for a no, None when it is neither or both."""
    opening: bool | None
    """True or False when the reply starts with a plain yes or no; None otherwise."""
    words_after: int
    """How many words follow that opening (0 when there is none)."""

    def short(self, most_words: int = 3) -> bool | None:
        """The opening when at most ``most_words`` follow it: a short answer, not a request of its own."""
        return self.opening if self.opening is not None and self.words_after <= most_words else None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _near(word: str, vocabulary: Iterable[str]) -> bool:
    """A word or an obvious typo of one ("yess", "yse", "noo"); very short words must be exact."""
    vocabulary = tuple(vocabulary)
    if word in vocabulary:
        return True
    if len(word) < 3:
        return False
    squeezed = re.sub(r"(.)\1+", r"\1", word)
    if squeezed in vocabulary:
        return True
    return bool(difflib.get_close_matches(word, [v for v in vocabulary if len(v) >= 3], n=1, cutoff=0.8))


def _answer(words: list[str]) -> bool | None:
    lowered = " ".join(words)
    if any(re.search(rf"\b{p}\b", lowered) for p in _NO_PHRASES):
        return False
    if any(re.search(rf"\b{p}\b", lowered) for p in _YES_PHRASES):
        return True
    words = words[:6]
    # A reply that opens with a yes or a no is that answer ("yes, cancel it" to "shall I cancel
    # it?"), unless a bare answer the other way follows ("yes no").
    if words and _near(words[0], _YES) != _near(words[0], _NO):
        opening = _near(words[0], _YES)
        if not any(w in (_BARE_NO if opening else _BARE_YES) for w in words[1:]):
            return opening
    saw_no = any(_near(w, _NO) for w in words)
    saw_yes = any(_near(w, _YES) for w in words)
    if saw_yes == saw_no:
        return None
    return saw_yes


def _opening(words: list[str]) -> tuple[bool | None, int]:
    """The plain yes or no a reply starts with, and how many words it takes."""
    if not words:
        return None, 0
    pair = tuple(words[:2])
    if pair in _OPENING_NO_PHRASES:
        return False, 2
    if pair in _OPENING_YES_PHRASES:
        return True, 2
    first = words[0]
    # Checked before the yes words: "no" and "nah" are close to no yes word, but a typo reader
    # must not turn "nope" into "yeps".
    if first in _OPENING_NO or re.fullmatch(r"no+", first):
        return False, 1
    if first in _OPENING_YES or re.fullmatch(r"y+e*[sp]*", first) or _near(first, ("yes", "yeah", "okay")):
        return True, 1
    return None, 0


def read(text: str) -> Reading:
    """Read ``text`` as a yes or a no, both as a whole and by how it opens."""
    words = _words(text)
    opening, used = _opening(words)
    return Reading(answer=_answer(words), opening=opening, words_after=len(words) - used if used else 0)


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the reply is neither or both."""
    return read(text).answer


def short_answer(text: str, most_words: int = 3) -> bool | None:
    """A yes or no with at most ``most_words`` after it ("yes, cancel it"); None for anything longer."""
    return read(text).short(most_words)


# How a reply goes on when it only vouches for the yes or no before it: "yes, it's my own number",
# "no, I'm not the account holder". A new request goes on differently ("ok, now change my plan").
_VOUCHING_STARTS = frozenset(
    {
        ("it's",), ("its",), ("it", "is"), ("it", "was"), ("that's",), ("thats",), ("that", "is"),
        ("that", "was"), ("this", "is"), ("i'm",), ("im",), ("i", "am"), ("i", "have"), ("i've",), ("i", "do"),
        ("i", "did"), ("i", "was"), ("we", "are"), ("we're",), ("we", "have"), ("they", "are"), ("they're",),
        ("both",), ("all", "of"), ("same",),
    }
)  # fmt: skip
_GOES_ON = frozenset({"but", "also", "now", "then", "though", "however", "can", "could", "what", "how", "why"})


def vouching_answer(text: str) -> bool | None:
    """A yes or no followed only by words vouching for it ("yes, I am the account holder"); else None.

    Longer than a short answer, still an answer: it says nothing the customer wants done next.
    A question or a "but", "also", "now" in the words after it make it a request of its own.
    """
    words = _words(text)
    opening, used = _opening(words)
    if opening is None or "?" in text:
        return None
    rest = words[used:]
    if not rest or _GOES_ON.intersection(rest):
        return None
    # "yes, I am the holder and it's my own number": every clause joined by "and" vouches.
    clauses: list[list[str]] = [[]]
    for word in rest:
        if word == "and":
            clauses.append([])
        else:
            clauses[-1].append(word)
    vouches = all(any(tuple(c[: len(start)]) == start for start in _VOUCHING_STARTS) for c in clauses)
    return opening if vouches else None
