"""Correcting a customer's typos against the words the router has learned, one edit away.

Symmetric deletes (as SymSpell does): every known word is indexed under itself and each
one-letter deletion of it; an unknown word is looked up the same way, so a letter dropped, added,
swapped with a neighbour or mistyped finds its word in a few dictionary look-ups rather than an
edit-distance scan. The look-up also finds words two edits away ("gve" and "get" share "ge"),
so candidates are ranked by their true distance first (a letter dropped, added, mistyped, or two
neighbours swapped count one edit): "tken" is "taken", not the commoner "take". Among candidates
equally close, the word seen most in training wins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# Shorter words have too many neighbours one edit away ("bil" could be "bill" or "bit").
MIN_LENGTH = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str, limit: int | None = None) -> int:
    """Edits from ``a`` to ``b``: letters dropped, added or changed, and neighbours swapped (one edit each).

    With ``limit``, ``limit + 1`` as soon as the distance is sure to exceed it."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if limit is not None and min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)]


def _telling(typo: str, word: str) -> bool:
    """Whether ``typo`` is ``word`` with a slip that rarely happens by chance: two neighbours
    swapped, a letter dropped, or a letter doubled ("wnat" is "want" more than "what")."""
    if len(typo) == len(word):
        return sorted(typo) == sorted(word)
    if len(word) == len(typo) + 1:
        return True
    return any(typo[i] == typo[i + 1] and typo[:i] + typo[i + 1 :] == word for i in range(len(typo) - 1))


class Speller:
    """Built once from the training words; ``correct`` is pure look-ups."""

    def __init__(self, words: Iterable[str]) -> None:
        self._counts = Counter(w for w in words if w.isalpha())
        self._index: dict[str, list[str]] = {}
        for word in self._counts:
            if len(word) < MIN_LENGTH - 1:
                continue
            for key in {word, *_deletes(word)}:
                self._index.setdefault(key, []).append(word)

    def correct(self, word: str) -> str:
        """``word`` itself when known (or too short or not a word), else its likeliest known spelling."""
        if word in self._counts or len(word) < MIN_LENGTH - 1 or not word.isalpha():
            return word
        candidates: set[str] = set()
        for key in {word, *_deletes(word)}:
            candidates.update(self._index.get(key, ()))
        # One edit: same length (a swap or a wrong letter) or one letter more or less.
        candidates = {c for c in candidates if abs(len(c) - len(word)) <= 1 and c[0] == word[0]}
        if not candidates:
            return word
        # The closest first (most typos are one edit), then a telling slip before a mere change of
        # letter, then the word seen most in training.
        return min(sorted(candidates), key=lambda c: (distance(word, c), not _telling(word, c), -self._counts[c]))

    def correct_text(self, normalized: str) -> str:
        return " ".join(self.correct(w) for w in normalized.split())
