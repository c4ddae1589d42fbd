"""Warnings for a skill whose examples overlap another skill's, by the offline router's own features.

Two skills taught with the same phrasings split their votes: the router grows unsure of both
and asks clarifying questions it did not need before. A new or changed skill is checked
against every other: an example that normalises to another skill's, or comes very close to
one, and a skill whose examples as a whole sit close to another's, are reported. The shipped
skills are at most 0.64 apart on either measure, well below the thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from orchestrator.routing.features import Featurizer
from orchestrator.routing.text import normalize
from shared.skills import Skill

NEAR_IDENTICAL = 0.9
"""Cosine similarity of two examples' features above which they teach the same thing."""
SIMILAR_SKILLS = 0.8
"""Cosine similarity of two skills' mean example features above which routing confuses them."""


def overlap_warnings(skills: Sequence[Skill], changed: Iterable[str]) -> list[str]:
    """One sentence per overlap between a skill named in ``changed`` and any other skill."""
    changed = set(changed)
    texts: list[str] = []
    owner: list[int] = []
    for index, skill in enumerate(skills):
        for example in skill.examples:
            texts.append(normalize(example))
            owner.append(index)
    if not changed or not texts:
        return []
    matrix = Featurizer().fit_transform(texts)
    rows = np.asarray(matrix.toarray())
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows = rows / np.where(norms == 0, 1.0, norms)
    owners = np.asarray(owner)
    similarity = rows @ rows.T
    warnings: list[str] = []
    for index, skill in enumerate(skills):
        if skill.name not in changed:
            continue
        mine = np.flatnonzero(owners == index)
        for other_index, other in enumerate(skills):
            if other_index == index or (other.name in changed and other_index < index):
                continue
            theirs = np.flatnonzero(owners == other_index)
            if not len(mine) or not len(theirs):
                continue
            pairs = similarity[np.ix_(mine, theirs)]
            close = [
                (skill.examples[int(i)], other.examples[int(j)])
                for i, j in zip(*np.nonzero(pairs >= NEAR_IDENTICAL), strict=True)
            ]
            if close:
                shown = "; ".join(f"{a!r} ~ {b!r}" for a, b in close[:3])
                warnings.append(
                    f"skill {skill.name} has {len(close)} example(s) (near-)identical to {other.name}'s: {shown}"
                    f"{' …' if len(close) > 3 else ''}; the router will hesitate between them"
                )
                continue
            centre = _unit(rows[mine].mean(axis=0)) @ _unit(rows[theirs].mean(axis=0))
            if centre >= SIMILAR_SKILLS:
                warnings.append(
                    f"skill {skill.name}'s examples are close to {other.name}'s (similarity {centre:.2f}); "
                    "reword them so each skill says what only it does"
                )
    return warnings


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
