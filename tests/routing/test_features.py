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
