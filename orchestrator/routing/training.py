"""What the offline brain learns from, and the fit itself: the training phrases and their labels.

``OfflineBrain`` (``offline``) decides at turn time; this module holds what runs once, at
start-up: checking the skills it is given, building the labelled training texts (each skill's
examples and description sentences, the built-in small-talk, out-of-scope and unclear phrases,
and the corpus rows for those skills), and fitting the linear classifier over n-grams and the
sentence embedding. scikit-learn and SciPy are imported inside ``fit``: only training needs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from orchestrator.routing import weights
from orchestrator.routing.background import OUT_OF_SCOPE_PHRASES, SMALL_TALK_PHRASES, UNCLEAR_PHRASES
from orchestrator.routing.corpus import Labelled
from orchestrator.routing.decision import OUT_OF_SCOPE, SMALL_TALK, UNCLEAR, Intent
from orchestrator.routing.embedding import StaticEmbedder
from orchestrator.routing.features import Featurizer
from orchestrator.routing.specs import SkillSpec
from shared.errors import ConfigurationError
from shared.handoff import HUMAN_REQUEST_TAG

# Inverse regularisation strength: high enough that the examples per skill separate cleanly,
# low enough that a message sharing one stray word with a skill stays unsure.
_C = 30
# The skills' own examples and descriptions and the built-in phrases weigh three routing-set rows
# each: they are few (about a fifth of the texts) and say what each class is, where the routing
# set says how customers word it. Validation folds, in-domain at the 2% / 4% / 6% budgets of
# confident wrong answers: 64.2% / 77.7% / 85.6% -> 65.4% / 78.2% / 86.3% (docs/routing.md).
_OWN_WEIGHT = 3.0
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_KINDS: dict[str, Intent] = {"small-talk": SMALL_TALK, "out-of-scope": OUT_OF_SCOPE, "vague": UNCLEAR}
NO_SKILL: tuple[Intent, ...] = (SMALL_TALK, OUT_OF_SCOPE, UNCLEAR)
"""The built-in classes no skill owns, after one class per skill."""


@dataclass
class TrainingSet:
    """Training texts, the class index each teaches, how much it weighs in the fit, and whether
    its words may teach the speller."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    spelt: list[bool] = field(default_factory=list)


def training_set(specs: Sequence[SkillSpec], classes: list[str], corpus: Sequence[Labelled]) -> TrainingSet:
    """The labelled texts for ``classes`` (one per spec, in order, then ``NO_SKILL``)."""
    index = {name: i for i, name in enumerate(classes)}
    rows = TrainingSet()
    texts, labels = rows.texts, rows.labels
    # Rows written with typos on purpose teach the n-grams of misspelt words, but their words
    # stay out of the speller's dictionary: a typo seen once in training was never corrected
    # again (validation folds: typo-ridden messages 85.8% -> 87.8% best guess).
    spelt = rows.spelt
    for label, spec in enumerate(specs):
        for text in _training_texts(spec):
            texts.append(text)
            labels.append(label)
            rows.weights.append(_OWN_WEIGHT)
            spelt.append(True)
    for kind, phrases in (
        (SMALL_TALK, SMALL_TALK_PHRASES),
        (OUT_OF_SCOPE, OUT_OF_SCOPE_PHRASES),
        (UNCLEAR, UNCLEAR_PHRASES),
    ):
        texts.extend(phrases)
        labels.extend([index[kind]] * len(phrases))
        rows.weights.extend([_OWN_WEIGHT] * len(phrases))
        spelt.extend([True] * len(phrases))
    for row in corpus:
        taught = _label(row, index)
        if taught is not None:
            texts.append(row.text)
            labels.append(taught)
            rows.weights.append(1.0)
            spelt.append(row.style != "typos")
    return rows


def fit(
    normalized_texts: list[str],
    labels: list[int],
    sample_weights: list[float],
    classes: list[str],
    embedder: StaticEmbedder,
    weight: float,
) -> weights.Trained:
    """Fit the classifier (each text weighing its ``sample_weights``); ``weight`` scales the
    sentence embedding next to the n-grams."""
    # Imported here: only training needs scikit-learn, so importing the router stays cheap.
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    features = Featurizer()
    grams = features.fit_transform(normalized_texts)
    meaning = sparse.csr_matrix(embedder.embed(normalized_texts) * weight)
    model = LogisticRegression(C=_C, solver="newton-cg", max_iter=200, class_weight="balanced")
    # "balanced" divides by each class's summed sample weight, so every class keeps its share of
    # the fit; the weights only move the emphasis between a class's own texts and its routing rows.
    # Single precision: the solver's sparse products cost far less (the fit is most of a start's
    # training time) and the validation folds score the same within noise (docs/routing.md).
    matrix = sparse.hstack([grams, meaning], format="csr", dtype=np.float32)
    model.fit(matrix, np.asarray(labels), sample_weight=np.asarray(sample_weights))
    if list(model.classes_) != sorted(set(labels)) or len(model.classes_) != len(classes):
        raise ConfigurationError("every routing class needs at least one training phrase")
    # Dense weights, transposed so one message's few non-zero n-grams select rows cheaply.
    # Kept in double precision, as a cached file is loaded: a fresh and a warm start decide alike.
    coef = np.ascontiguousarray(model.coef_.T, dtype=np.float64)
    return weights.Trained(
        features=features,
        gram_weights=coef[: features.size],
        meaning_weights=np.ascontiguousarray(coef[features.size :] * weight),
        bias=np.asarray(model.intercept_, dtype=np.float64),
    )


def _label(row: Labelled, index: dict[str, int]) -> int | None:
    """The class a training row teaches, or None (a skill this brain does not route to, two requests)."""
    if row.kind == "two-requests":
        return None
    if row.skill is not None:
        return index.get(f"{row.agent}/{row.skill}")
    if row.kind == "other-language":
        return None
    return index[_KINDS[row.kind]] if row.kind in _KINDS else None


def _training_texts(spec: SkillSpec) -> list[str]:
    texts = list(spec.examples)
    texts.extend(s for s in _SENTENCE.split(spec.description) if s)
    return texts


def check_specs(specs: Sequence[SkillSpec]) -> None:
    """Refuse skills no brain can learn: none, one listed twice, nothing to learn from, two human skills."""
    if not specs:
        raise ConfigurationError("no skills to route to", hint="publish at least one AgentCard skill")
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        key = (spec.agent, spec.skill)
        if key in seen:
            raise ConfigurationError(f"skill {spec.agent}/{spec.skill} is listed twice", hint="give each skill one id")
        seen.add(key)
        if not spec.examples and not spec.description.strip():
            raise ConfigurationError(
                f"skill {spec.agent}/{spec.skill} has no examples and no description to learn from",
                hint="add an '## Examples' list to its SKILL.md",
            )
    humans = [f"{s.agent}/{s.skill}" for s in specs if HUMAN_REQUEST_TAG in s.tags]
    if len(humans) > 1:
        raise ConfigurationError(
            f"more than one skill is tagged {HUMAN_REQUEST_TAG}: {', '.join(humans)}",
            hint="tag exactly one skill as the place explicit requests for a human go",
        )
