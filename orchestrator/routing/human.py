"""Spotting an explicit request for a human, typos included.

A customer who asks for a person must reach one whatever else the message says, so this check
runs before (and overrides) the classifier. It looks for a *request* — a verb such as "talk",
"speak", "connect", "transfer" or "want" in front of a word for a person — rather than any
mention of one, so "the agent told me I'd get a refund" still goes to the refund skill.
"""

from __future__ import annotations

from functools import lru_cache

# Words for a person, each with the number of typos tolerated. Short common words get none or
# one, so that "stuff" never reads as "staff" nor "managed" as "manager".
_PERSON_WORDS: dict[str, int] = {
    "human": 1,
    "humans": 1,
    "person": 1,
    "agent": 1,
    "representative": 3,
    "rep": 0,
    "manager": 1,
    "supervisor": 2,
    "operator": 2,
    "employee": 2,
    "staff": 0,
    "advisor": 1,
    "adviser": 1,
    "boss": 0,
    "someone": 1,
    "somebody": 2,
    "anyone": 0,
    "anybody": 1,
    "customerservice": 3,
}
# One edit from a person word but not one: "the line which i manage" is no request for a manager.
_NOT_PERSON = frozenset({"managed", "manage", "manages", "agents", "humane", "persona", "rap", "ref", "reps"})
# "someone" alone is too vague after a weak verb ("I need someone to fix my internet").
_VAGUE = frozenset({"someone", "somebody", "anyone", "anybody"})
# A person mentioned this way is unambiguous wherever it appears.
_ALWAYS = frozenset({"human", "humans"})
_QUALIFIERS = frozenset({"real", "actual", "live", "proper"})

_TALK = frozenset(
    {
        "talk",
        "tlak",
        "tak",
        "speak",
        "speek",
        "spek",
        "chat",
        "connect",
        "transfer",
        "escalate",
        "through",
        "over",
        "contact",
        "reach",
        "with",
    }
)
_WANT = frozenset({"want", "need", "get", "give", "have", "bring", "send", "find", "prefer", "rather"})
_BOTS = frozenset({"bot", "bots", "robot", "machine", "chatbot", "ai", "computer", "automated"})
_REFUSAL = frozenset({"not", "no", "stop", "refuse", "enough", "hate", "useless", "instead"})
_REPORTED = frozenset({"said", "told", "says", "promised", "gave", "was", "were", "did", "sent", "called"})
# Between a verb and the person, these make the person what the message is about, not whom the
# customer wants: "a grievance about your staff", "feedback to the shop staff".
_TOPIC = frozenset({"about", "regarding", "concerning", "feedback", "grievance", "review", "compliment", "praise"})
# Filler that may surround a bare "agent!" or "human please".
_FILLER = frozenset({"please", "now", "a", "an", "the", "to", "i", "me", "want", "need", "pls", "just", "ok", "hi"})

_WINDOW = 6


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance between ``a`` and ``b``, or ``limit + 1`` once it is exceeded."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=8192)
def person_word(word: str) -> str | None:
    """The person word ``word`` spells, allowing a few typos, or None."""
    if word in _PERSON_WORDS:
        return word
    if word in _NOT_PERSON or len(word) < 4:
        return None
    for target, limit in _PERSON_WORDS.items():
        # Typos rarely hit the first letter; checking it keeps this cheap on unseen words.
        if limit and word[0] == target[0] and _distance(word, target, limit) <= limit:
            return target
    return None


def asks_for_human(words: list[str]) -> bool:
    """True when the (normalised) words ask to be put through to a person."""
    people = [(i, person_word(w)) for i, w in enumerate(words)]
    people = [(i, p) for i, p in people if p is not None]
    bots = any(w in _BOTS for w in words)
    if bots and (people or any(w in _REFUSAL or w in _TALK for w in words)):
        return True
    if not people:
        return False
    if all(w in _FILLER or w in _QUALIFIERS or person_word(w) for w in words):
        return True
    for i, person in people:
        if i + 1 < len(words) and words[i + 1] in _REPORTED:
            continue
        before = words[max(0, i - _WINDOW) : i]
        after = words[i + 1 : i + 3]
        if person in _ALWAYS:
            return True
        if any(w in _QUALIFIERS for w in before[-2:]) or (person in _VAGUE and "real" in after):
            return True
        if any(w in _TALK for w in before) or "call" in after:
            return True
        if person not in _VAGUE and _wanted(before):
            return True
    return False


def _wanted(before: list[str]) -> bool:
    """A verb of wanting comes before the person, with nothing that makes the person a topic between."""
    for j in range(len(before) - 1, -1, -1):
        if before[j] in _TOPIC:
            return False
        if before[j] in _WANT:
            return True
    return False
