"""The single-message fast path computes exactly what scikit-learn computes for the batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from orchestrator.routing.features import Featurizer
from orchestrator.routing.text import normalize

EVAL_SET = Path(__file__).resolve().parents[2] / "evals" / "routing" / "messages.jsonl"
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


def test_the_analyzers_make_the_same_ngrams_as_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from orchestrator.routing.features import _TOKEN, BLOCKS, analyze

    texts = [*TEXTS, normalize("a  b\tc"), "x", "", "  spaced   out  ", "one two three four"]
    texts += [normalize(json.loads(line)["text"]) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]
    for analyzer, ngram_range, _ in BLOCKS:
        params = {"token_pattern": _TOKEN} if analyzer == "word" else {}
        theirs = TfidfVectorizer(lowercase=False, analyzer=analyzer, ngram_range=ngram_range, **params).build_analyzer()
        for text in texts:
            assert analyze(analyzer, ngram_range, text) == theirs(text), (analyzer, text)
