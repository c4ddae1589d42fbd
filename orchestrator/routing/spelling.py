"""Correcting a customer's typos against the words the router has learned, one edit away.

Symmetric deletes (as SymSpell does): every known word is indexed under itself and each
one-letter deletion of it; an unknown word is looked up the same way, so a letter dropped, added,
swapped with a neighbour or mistyped finds its word in a few dictionary look-ups rather than an
edit-distance scan. Among several candidates the word seen most in training wins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# Shorter words have too many neighbours one edit away ("bil" could be "bill" or "bit").
MIN_LENGTH = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


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
        return max(sorted(candidates), key=lambda c: self._counts[c])

    def correct_text(self, normalized: str) -> str:
        return " ".join(self.correct(w) for w in normalized.split())
