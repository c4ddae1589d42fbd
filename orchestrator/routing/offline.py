"""The offline brain: a linear classifier over the skills' own phrasings, trained at start-up.

No network and no model download: it learns from each skill's examples and description, plus a
built-in "unclear" class (see ``background``), in well under a second. With a ``cache_dir`` the
learned weights are kept there, keyed by everything they were learned from, so a later start
with the same skills loads them instead and never imports scikit-learn. Routing one message is a
sparse dot product. An explicit request for a human bypasses the classifier and goes to the skill
tagged ``routing:human-request`` with confidence 1.0.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from orchestrator.routing.background import UNCLEAR_PHRASES
from orchestrator.routing.decision import RouteAlternative, RouteDecision
from orchestrator.routing.features import BLOCKS, Featurizer
from orchestrator.routing.human import asks_for_human
from orchestrator.routing.specs import SkillSpec
from orchestrator.routing.text import normalize
from shared.errors import ConfigurationError, PayloadTooLarge
from shared.handoff import HUMAN_REQUEST_TAG

DEFAULT_MAX_CHARS = 2000
HUMAN_REASON = "explicit request for a human"
# Inverse regularisation strength: high enough that 30-odd examples per skill separate cleanly,
# low enough that a message sharing one stray word with a skill stays unsure.
_C = 300.0
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class OfflineBrain:
    """Routes customer turns with a classifier learned from ``SkillSpec``s. Build with ``from_skills``."""

    def __init__(
        self, specs: Sequence[SkillSpec], *, max_chars: int = DEFAULT_MAX_CHARS, cache_dir: Path | None = None
    ) -> None:
        _check(specs)
        self._specs = list(specs)
        self._max_chars = max_chars
        humans = [s for s in specs if HUMAN_REQUEST_TAG in s.tags]
        self._human = humans[0] if humans else None
        texts: list[str] = []
        labels: list[int] = []
        for label, spec in enumerate(self._specs):
            for text in _training_texts(spec):
                texts.append(normalize(text))
                labels.append(label)
        self._unclear = len(self._specs)
        for text in UNCLEAR_PHRASES:
            texts.append(normalize(text))
            labels.append(self._unclear)
        cache = cache_dir / f"router-{_cache_key(texts, labels)}.npz" if cache_dir is not None else None
        if cache is None or not self._load(cache):
            self._train(texts, labels)
            if cache is not None:
                self._save(cache)
        # The first call pays for lazy imports and allocations; pay it at start-up, not on a turn.
        self.decide("hello, can you help me with my account")

    @classmethod
    def from_skills(
        cls, specs: Sequence[SkillSpec], *, max_chars: int = DEFAULT_MAX_CHARS, cache_dir: Path | None = None
    ) -> OfflineBrain:
        """Train a brain on ``specs`` (from AgentCards or skill folders), or load it from ``cache_dir``."""
        return cls(specs, max_chars=max_chars, cache_dir=cache_dir)

    def _train(self, texts: list[str], labels: list[int]) -> None:
        from sklearn.linear_model import LogisticRegression

        self._features = Featurizer()
        matrix = self._features.fit_transform(texts)
        model = LogisticRegression(C=_C, solver="newton-cg", max_iter=200)
        model.fit(matrix, np.asarray(labels))
        # Dense weights, transposed so one message's few non-zero features select rows cheaply.
        self._weights = np.ascontiguousarray(model.coef_.T)
        self._bias = model.intercept_.copy()

    def _load(self, path: Path) -> bool:
        """True when ``path`` held this brain; anything unreadable is learned again."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in saved.files}
            self._features = Featurizer.from_state(arrays)
            self._weights, self._bias = arrays["weights"], arrays["bias"]
        except (OSError, ValueError, KeyError):
            return False
        return self._weights.shape == (self._features.size, self._unclear + 1)

    def _save(self, path: Path) -> None:
        """Written whole or not at all (private, like everything in the data directory)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, weights=self._weights, bias=self._bias, **self._features.state())
            os.replace(partial, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(partial)

    @property
    def specs(self) -> list[SkillSpec]:
        return list(self._specs)

    async def route(self, text: str) -> RouteDecision:
        """Decide which skill owns ``text`` (see ``decide``)."""
        return self.decide(text)

    def decide(self, text: str) -> RouteDecision:
        """Synchronous ``route``: pure CPU, a fraction of a millisecond."""
        if len(text) > self._max_chars:
            raise PayloadTooLarge(
                f"message is {len(text)} characters; the limit is {self._max_chars}",
                hint="send a shorter message, or split it into several",
            )
        normalized = normalize(text)
        words = normalized.split()
        if not words:
            return RouteDecision(agent=None, skill=None, confidence=0.0, reason="empty message")
        if self._human is not None and asks_for_human(words):
            return RouteDecision(
                agent=self._human.agent,
                skill=self._human.skill,
                confidence=1.0,
                reason=HUMAN_REASON,
                alternatives=[RouteAlternative(agent=self._human.agent, skill=self._human.skill, score=1.0)],
            )
        probabilities = self.probabilities(normalized)
        skills = probabilities[: self._unclear]
        ranked = np.argsort(-skills)[:3]
        best = int(ranked[0])
        confidence = float(skills[best]) * self._known_share(words)
        unclear = float(probabilities[self._unclear])
        alternatives = [
            RouteAlternative(agent=self._specs[i].agent, skill=self._specs[i].skill, score=round(float(skills[i]), 4))
            for i in ranked
        ]
        spec = self._specs[best]
        if unclear > skills[best]:
            reason = f"no clear intent (small talk {unclear:.2f}); closest {spec.agent}/{spec.skill}"
        else:
            runner = self._specs[int(ranked[1])] if len(ranked) > 1 else None
            reason = f"closest to {spec.agent}/{spec.skill} phrasings"
            if runner is not None:
                reason += f"; next {runner.agent}/{runner.skill} {skills[ranked[1]]:.2f}"
        return RouteDecision(
            agent=spec.agent,
            skill=spec.skill,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            reason=reason,
            alternatives=alternatives,
        )

    def probabilities(self, normalized: str) -> np.ndarray:
        """Class probabilities for normalised text: one per spec, then the unclear class."""
        indices, values = self._features.vector(normalized)
        scores = self._bias + values @ self._weights[indices] if len(indices) else self._bias.copy()
        scores = scores - scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

    def _known_share(self, words: list[str]) -> float:
        """Damping for messages made mostly of words no skill uses (gibberish, other languages)."""
        known = sum(1 for w in words if w in self._features.words)
        return min(1.0, math.sqrt(known / len(words)) * 1.25) if words else 0.0


def _cache_key(texts: list[str], labels: list[int]) -> str:
    """Everything the weights depend on: the training data, the settings and the library versions."""
    learned_from = {
        "texts": texts,
        "labels": labels,
        "C": _C,
        "blocks": BLOCKS,
        "versions": [version("scikit-learn"), version("numpy")],
    }
    return hashlib.sha256(json.dumps(learned_from).encode()).hexdigest()[:32]


def _training_texts(spec: SkillSpec) -> list[str]:
    texts = list(spec.examples)
    texts.extend(s for s in _SENTENCE.split(spec.description) if s)
    return texts


def _check(specs: Sequence[SkillSpec]) -> None:
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
