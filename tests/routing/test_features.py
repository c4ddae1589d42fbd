"""The single-message fast path computes exactly what scikit-learn computes for the batch."""

from __future__ import annotations

import numpy as np

from orchestrator.routing.features import Featurizer
from orchestrator.routing.text import normalize

TEXTS = [
    normalize(t)
    for t in [
        "why is my bill so high",
        "I was charged twice, refund please",
        "no signal at home since Monday",
        "what's the status of ticket TCK-1234",
        "send the code to jane@example.com",
    ]
]


def test_vector_matches_the_training_matrix() -> None:
    features = Featurizer()
    matrix = features.fit_transform(TEXTS)
    for row, text in enumerate(TEXTS):
        indices, values = features.vector(text)
        dense = np.zeros(features.size)
        dense[indices] = values
        np.testing.assert_allclose(dense, matrix[row].toarray().ravel(), rtol=1e-12, atol=1e-12)


def test_unknown_text_has_no_features() -> None:
    features = Featurizer()
    features.fit_transform(TEXTS)
    indices, values = features.vector("zzqx")
    assert indices.size == values.size == 0


def test_normalize_replaces_identifiers_by_their_kind() -> None:
    assert normalize("Mail me at Jane.Doe+x@Example.co.uk") == "mail me at emailaddress"
    assert normalize("acc no ACC-0042137, phone +44 7700 900123") == "account no accountnumber phone phonenumber"
    assert normalize("Hellllo, I can't") == "hello i can not"
    assert normalize("Café  ticket TCK-20441") == "cafe ticket ticketnumber"
    assert normalize("reset my pwd, the pmt addr info is wrong tmrw") == (
        "reset my password the payment address information is wrong tomorrow"
    )
    # A reference's random letters are not words: every reference reads the same.
    assert normalize("the reference was PORT-1A2B3C4D") == normalize("the reference was PORT-FE0D9B7C")
    assert normalize("the reference was PORT-1A2B3C4D") == "the reference was port 0"


def test_the_n_grams_are_cut_as_scikit_learn_cuts_them() -> None:
    # A featurizer loaded from the weight cache cuts n-grams without scikit-learn: it must agree.
    from sklearn.feature_extraction.text import TfidfVectorizer

    from orchestrator.routing.corpus import training_rows
    from orchestrator.routing.features import _BLOCKS, char_wb_grams, word_grams

    texts = [normalize(row.text) for row in training_rows()] + ["", "a", "  x   y ", "ab cd", "é ü 42", "a\tb\nc"]
    char = TfidfVectorizer(lowercase=False, **_BLOCKS[0][0]).build_analyzer()  # type: ignore[arg-type]
    word = TfidfVectorizer(lowercase=False, **_BLOCKS[1][0]).build_analyzer()  # type: ignore[arg-type]
    for text in texts:
        assert char_wb_grams(text) == char(text), text
        assert word_grams(text) == word(text), text


def test_a_featurizer_survives_its_arrays() -> None:
    features = Featurizer()
    features.fit_transform(TEXTS)
    again = Featurizer.from_arrays(features.arrays())
    assert again.size == features.size and again.words == features.words
    for text in [*TEXTS, "my bil is wrong", "zzqx"]:
        for mine, theirs in zip(features.vector(text), again.vector(text), strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_word_forms_share_a_stem() -> None:
    from orchestrator.routing.features import stem, stem_grams

    assert stem("charged") == stem("charges") == stem("charge") == "charg"
    assert stem("refunded") == stem("refunds") == stem("refund") == "refund"
    assert stem("deliveries") == "delivery"
    # Short words keep their letters: "was" is not "wa", "bus" is not "bu".
    assert [stem(w) for w in ("was", "bus", "yes", "is")] == ["was", "bus", "yes", "is"]
    assert stem_grams("refunds pending") == ["refund", "pend", "refund pend"]
