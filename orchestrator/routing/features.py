"""Text features for the offline brain: character n-grams (robust to typos) plus word n-grams.

Training uses scikit-learn's vectorisers (imported only to train). Routing one message does the same arithmetic directly
(n-gram lookup, sublinear tf·idf, L2 norm per block) because sklearn's per-call input validation
costs more than the maths for a single sample; ``tests/routing`` checks the two agree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

# Character n-grams carry typos and word variants; word n-grams carry phrasing ("charged twice").
# (analyzer, n-gram range, weight); the analyzers below are scikit-learn's, written out so that a
# brain loaded from its cache routes without importing scikit-learn (``tests/routing`` checks it).
BLOCKS: tuple[tuple[str, tuple[int, int], float], ...] = (
    ("char_wb", (2, 5), 1.0),
    ("word", (1, 2), 0.8),
)
_TOKEN = r"(?u)\b\w+\b"
_TOKENS = re.compile(_TOKEN)
_WHITE_SPACES = re.compile(r"\s\s+")


def analyze(analyzer: str, ngram_range: tuple[int, int], text: str) -> list[str]:
    """The n-grams scikit-learn's ``TfidfVectorizer(analyzer=..., lowercase=False)`` makes of ``text``."""
    low, high = ngram_range
    if analyzer == "char_wb":
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            word = f" {word} "
            for n in range(low, high + 1):
                offset = 0
                grams.append(word[offset : offset + n])
                while offset + n < len(word):
                    offset += 1
                    grams.append(word[offset : offset + n])
                if offset == 0:  # a word shorter than n counts once
                    break
        return grams
    tokens = _TOKENS.findall(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass(frozen=True)
class _Block:
    analyzer: str
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    weight: float


class Featurizer:
    """Fitted once at start-up (or loaded); turns normalised text into a sparse feature vector."""

    def __init__(self) -> None:
        self._blocks: list[_Block] = []
        self.size = 0
        self.words: frozenset[str] = frozenset()

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Learn the vocabularies and idf from ``texts`` and return their feature matrix."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        matrices = []
        for analyzer, ngram_range, weight in BLOCKS:
            params = {"token_pattern": _TOKEN} if analyzer == "word" else {}
            vectorizer = TfidfVectorizer(
                lowercase=False,
                sublinear_tf=True,
                dtype=np.float64,
                analyzer=analyzer,
                ngram_range=ngram_range,
                **params,
            )
            matrices.append(vectorizer.fit_transform(texts) * weight)
            self._add(analyzer, dict(vectorizer.vocabulary_), vectorizer.idf_.copy())
        return sparse.hstack(matrices, format="csr")

    def _add(self, analyzer: str, vocabulary: dict[str, int], idf: np.ndarray) -> None:
        _, ngram_range, weight = next(b for b in BLOCKS if b[0] == analyzer)
        self._blocks.append(_Block(analyzer, ngram_range, vocabulary, idf, self.size, weight))
        self.size += len(vocabulary)
        if analyzer == "word":
            self.words = frozenset(k for k in vocabulary if " " not in k)

    def state(self) -> dict[str, np.ndarray]:
        """What ``from_state`` needs: per block its terms (in column order) and idf."""
        saved: dict[str, np.ndarray] = {}
        for block in self._blocks:
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            saved[f"{block.analyzer}.terms"] = np.array(terms, dtype=str)
            saved[f"{block.analyzer}.idf"] = block.idf
        return saved

    @classmethod
    def from_state(cls, saved: dict[str, np.ndarray]) -> Featurizer:
        featurizer = cls()
        for analyzer, _, _ in BLOCKS:
            terms = [str(t) for t in saved[f"{analyzer}.terms"]]
            featurizer._add(analyzer, {t: i for i, t in enumerate(terms)}, np.asarray(saved[f"{analyzer}.idf"]))
        return featurizer

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of ``text``'s non-zero features (equal to the matrix row for it)."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block in self._blocks:
            grams = Counter(analyze(block.analyzer, block.ngram_range, text))
            found = np.fromiter((block.vocabulary.get(g, -1) for g in grams), dtype=np.intp, count=len(grams))
            known = found >= 0
            if not known.any():
                continue
            found = found[known]
            counts = np.fromiter(grams.values(), dtype=np.float64, count=len(grams))[known]
            weights = (1.0 + np.log(counts)) * block.idf[found]
            indices.append(found + block.offset)
            values.append(weights * (block.weight / math.sqrt(weights @ weights)))
        if not indices:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        return np.concatenate(indices), np.concatenate(values)
