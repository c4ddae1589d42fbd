"""Text features for the offline brain: character n-grams (robust to typos), word n-grams, and
word n-grams of crudely stemmed words (one feature for "charged", "charges" and "charge").

Training uses scikit-learn's vectorisers (imported only when a brain is trained). Routing one
message does the same arithmetic directly (n-gram lookup, sublinear tf·idf, L2 norm per block)
because sklearn's per-call input validation costs more than the maths for a single sample;
``tests/routing`` checks the two agree. The n-grams are cut here too (as sklearn cuts them,
checked by the same tests), so a featurizer loaded from the weight cache needs no scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, NotRequired, TypedDict

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

# Character n-grams carry typos and word variants; word n-grams carry phrasing ("charged twice").
_WORD_PATTERN = r"(?u)\b\w+\b"


class _Params(TypedDict):
    """The TfidfVectorizer arguments of one block of features."""

    analyzer: str
    ngram_range: tuple[int, int]
    token_pattern: NotRequired[str]


_BLOCKS: tuple[tuple[_Params, float], ...] = (
    ({"analyzer": "char_wb", "ngram_range": (2, 5)}, 1.0),
    ({"analyzer": "word", "ngram_range": (1, 2), "token_pattern": _WORD_PATTERN}, 0.8),
    # Word forms customers vary ("refunded", "refunds") share a feature, and so do their phrases
    # ("charged twice", "charges twice"): validation folds 84.0% -> 84.8% in-domain (docs/routing.md).
    ({"analyzer": "stem", "ngram_range": (1, 2)}, 0.8),
)
_SPACES = re.compile(r"\s\s+")
_WORD = re.compile(_WORD_PATTERN)
# Longest first; a stem keeps at least three letters ("was", "bus" and "yes" stay whole).
_SUFFIXES = ("ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "e")
_MIN_STEM = 3
# Words whose character n-grams' indices a fitted block keeps (a few hundred bytes each).
_WORDS_KEPT = 8192


def char_wb_grams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character n-grams inside word boundaries, padded with a space (sklearn's ``char_wb``)."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


def word_grams(text: str, low: int = 1, high: int = 2) -> list[str]:
    """Words and runs of up to ``high`` words (sklearn's ``word`` analyzer with our token pattern)."""
    return _runs(_WORD.findall(text), low, high)


def _runs(words: list[str], low: int, high: int) -> list[str]:
    grams = list(words) if low == 1 else []
    for n in range(max(low, 2), min(high, len(words)) + 1):
        grams.extend(map(" ".join, zip(*(words[k:] for k in range(n)), strict=False)))
    return grams


@lru_cache(maxsize=_WORDS_KEPT)
def stem(word: str) -> str:
    """``word`` without its commonest English ending ("charged" -> "charg", "deliveries" -> "delivery")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def stem_grams(text: str, low: int = 1, high: int = 2) -> list[str]:
    """``word_grams`` of the stemmed words."""
    return _runs(list(map(stem, _WORD.findall(text))), low, high)


def _analyzer(params: _Params) -> Callable[[str], list[str]]:
    low, high = params["ngram_range"]
    if params["analyzer"] == "char_wb":
        return lambda text: char_wb_grams(text, low, high)
    if params["analyzer"] == "stem":
        return lambda text: stem_grams(text, low, high)
    return lambda text: word_grams(text, low, high)


class _Block:
    """One fitted block: its n-grams' vocabulary indices, idf and weight."""

    def __init__(
        self, params: _Params, vocabulary: dict[str, int], idf: np.ndarray, offset: int, weight: float
    ) -> None:
        self.analyze = _analyzer(params)
        self.vocabulary = vocabulary
        self.idf = idf
        self.offset = offset
        self.weight = weight
        # Character n-grams never cross a word, so each word's are cut and looked up once and
        # kept: routed messages are mostly words seen before, and a long one is read clause by clause.
        self._by_word = params["analyzer"] == "char_wb"
        self._word_known = lru_cache(maxsize=_WORDS_KEPT)(self._lookup)

    def _lookup(self, word: str) -> tuple[int, ...]:
        return tuple(i for i in map(self.vocabulary.get, self.analyze(word)) if i is not None)

    def counts(self, text: str) -> Counter[int | None]:
        """How often each of ``text``'s known n-grams occurs, by vocabulary index, in the order
        ``analyze`` first cuts them (no None among them)."""
        if self._by_word:
            return Counter(chain.from_iterable(map(self._word_known, text.split())))
        counts = Counter(map(self.vocabulary.get, self.analyze(text)))
        counts.pop(None, None)
        return counts


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
            if params["analyzer"] == "stem":  # no analyzer of scikit-learn's own: it is given ours
                vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float64, analyzer=_analyzer(params))
            else:
                vectorizer = TfidfVectorizer(lowercase=False, sublinear_tf=True, dtype=np.float64, **params)
            matrices.append(vectorizer.fit_transform(texts) * weight)
            self._blocks.append(_Block(params, dict(vectorizer.vocabulary_), vectorizer.idf_.copy(), offset, weight))
            offset += len(vectorizer.vocabulary_)
            if params["analyzer"] == "word":
                self.words = frozenset(k for k in vectorizer.vocabulary_ if " " not in k)
        self.size = offset
        return sparse.hstack(matrices, format="csr")

    def arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (strings as unicode arrays: no pickle needed to load)."""
        out: dict[str, np.ndarray] = {}
        for i, block in enumerate(self._blocks):
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            out[f"block{i}_terms"] = np.asarray(terms, dtype=str)
            out[f"block{i}_idf"] = block.idf
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Featurizer:
        """The featurizer ``arrays()`` described; raises KeyError or ValueError when they do not fit."""
        featurizer = cls()
        offset = 0
        for i, (params, weight) in enumerate(_BLOCKS):
            terms = [str(t) for t in arrays[f"block{i}_terms"]]
            idf = np.asarray(arrays[f"block{i}_idf"], dtype=np.float64)
            if len(terms) != len(idf):
                raise ValueError("vocabulary and idf differ in length")
            vocabulary = {term: index for index, term in enumerate(terms)}
            featurizer._blocks.append(_Block(params, vocabulary, idf, offset, weight))
            offset += len(terms)
            if params["analyzer"] == "word":
                featurizer.words = frozenset(k for k in vocabulary if " " not in k)
        featurizer.size = offset
        return featurizer

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of ``text``'s non-zero features (equal to the matrix row for it)."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block in self._blocks:
            grams = block.counts(text)
            if not grams:
                continue
            found = np.fromiter(grams, dtype=np.intp, count=len(grams))
            weights = block.idf[found]
            # Sublinear tf, 1 + log(count): a count of one leaves the idf exactly as it is, and
            # most n-grams of a message occur once.
            if grams.total() > len(grams):
                counts = np.fromiter(grams.values(), dtype=np.float64, count=len(grams))
                weights = (1.0 + np.log(counts)) * weights
            indices.append(found + block.offset)
            values.append(weights * (block.weight / math.sqrt(weights @ weights)))
        if not indices:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        return np.concatenate(indices), np.concatenate(values)
