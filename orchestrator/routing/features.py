"""Text features for the offline brain: character n-grams (robust to typos) plus word n-grams.

Training uses scikit-learn's vectorisers (imported only when a brain is trained). Routing one
message does the same arithmetic directly (n-gram lookup, sublinear tf·idf, L2 norm per block)
because sklearn's per-call input validation costs more than the maths for a single sample;
``tests/routing`` checks the two agree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

# Character n-grams carry typos and word variants; word n-grams carry phrasing ("charged twice").
_BLOCKS: tuple[tuple[dict[str, object], float], ...] = (
    ({"analyzer": "char_wb", "ngram_range": (2, 5)}, 1.0),
    ({"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"}, 0.8),
)


@dataclass(frozen=True)
class _Block:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    weight: float


class Featurizer:
    """Fitted once at start-up; turns normalised text into a sparse feature vector."""

    def __init__(self) -> None:
        self._blocks: list[_Block] = []
        self.size = 0
        self.words: frozenset[str] = frozenset()

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Learn the vocabularies and idf from ``texts`` and return their feature matrix."""
        # Imported here: only training needs scikit-learn, so importing the router stays cheap.
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        matrices = []
        offset = 0
        for params, weight in _BLOCKS:
            vectorizer = TfidfVectorizer(lowercase=False, sublinear_tf=True, dtype=np.float64, **params)
            matrices.append(vectorizer.fit_transform(texts) * weight)
            self._blocks.append(
                _Block(
                    analyze=vectorizer.build_analyzer(),
                    vocabulary=dict(vectorizer.vocabulary_),
                    idf=vectorizer.idf_.copy(),
                    offset=offset,
                    weight=weight,
                )
            )
            offset += len(vectorizer.vocabulary_)
            if params["analyzer"] == "word":
                self.words = frozenset(k for k in vectorizer.vocabulary_ if " " not in k)
        self.size = offset
        return sparse.hstack(matrices, format="csr")

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of ``text``'s non-zero features (equal to the matrix row for it)."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block in self._blocks:
            grams = Counter(block.analyze(text))
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
