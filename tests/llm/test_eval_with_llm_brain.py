"""The routing evaluation set through the LLM router (scripted double), and the comparison command."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from agents.runtime.llm import LLMSettings
from orchestrator.routing import LLMBrain, build_brain, skill_specs_from_skills
from shared.settings import Settings
from shared.skills import load_skills

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "evals" / "routing" / "messages.jsonl"


async def test_eval_set_through_the_llm_path_is_at_least_90_percent_right() -> None:
    brain = build_brain(skill_specs_from_skills(load_skills()), LLMSettings(_env_file=None, router_model="scripted"))
    assert isinstance(brain, LLMBrain)
    threshold = Settings().route_threshold
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [r for r in rows if r["skill"] is not None]
    right = 0
    used_model = 0
    for row in labelled:
        decision = await brain.route(row["text"])
        right += decision.skill == row["skill"] and decision.confidence >= threshold
        used_model += decision.brain == "llm:scripted"
    assert right / len(labelled) >= 0.90
    assert used_model / len(labelled) >= 0.80  # most answers came through the model path, not the fallback


def _benchmark():  # benchmarks/ is a folder of scripts, not a package
    spec = importlib.util.spec_from_file_location("routing_accuracy", ROOT / "benchmarks" / "routing_accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_compares_brains(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_MODEL", raising=False)
    monkeypatch.delenv("SWITCHBOARD_ROUTER_MODEL", raising=False)
    benchmark = _benchmark()
    assert benchmark.main(["--brain", "scripted"]) == 0
    assert "model fell back to the offline brain" in capsys.readouterr().out
    assert benchmark.main(["--brain", "llm"]) == 2
    assert "needs a model" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        benchmark.main(["--brain", "gpt"])
