"""The labelled evaluation set: well formed, balanced, and routed at least 90% right."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from orchestrator.routing import OfflineBrain
from shared.settings import Settings
from shared.skills import load_skills

EVAL = Path(__file__).resolve().parents[2] / "evals" / "routing" / "messages.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_eval_set_shape() -> None:
    rows = _rows()
    assert len(rows) >= 320
    owners = {s.name: s.agent for s in load_skills()}
    per_skill = Counter(r["skill"] for r in rows)
    for row in rows:
        assert set(row) == {"text", "agent", "skill"}
        assert row["skill"] is None or owners[row["skill"]] == row["agent"]
    assert all(35 <= per_skill[name] <= 45 for name in owners)
    assert 15 <= per_skill[None] <= 30
    examples = {e.lower() for s in load_skills() for e in s.examples}
    assert not [r["text"] for r in rows if r["text"].lower() in examples], "eval copies a skill example"


def test_eval_accuracy_at_least_90_percent(brain: OfflineBrain) -> None:
    threshold = Settings().route_threshold
    labelled = [r for r in _rows() if r["skill"] is not None]
    unclear = [r for r in _rows() if r["skill"] is None]
    right = 0
    for row in labelled:
        decision = brain.decide(row["text"])
        right += decision.skill == row["skill"] and decision.confidence >= threshold
    assert right / len(labelled) >= 0.90
    low = sum(brain.decide(r["text"]).confidence < threshold for r in unclear)
    assert low / len(unclear) >= 0.90
