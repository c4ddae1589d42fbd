"""The routing evaluation set through the LLM router (scripted double), and the comparison command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agents.runtime.llm import LLMSettings
from orchestrator.routing import LLMBrain, build_brain, skill_specs_from_skills
from orchestrator.routing.corpus import evaluation_rows
from shared.settings import Settings
from shared.skills import load_skills

ROOT = Path(__file__).resolve().parents[2]


async def test_the_test_split_through_the_llm_path_routes_like_the_offline_brain() -> None:
    specs = skill_specs_from_skills(load_skills())
    cache = Settings().cache_dir  # the suite's shared weights: both brains route with the same ones
    brain = build_brain(specs, LLMSettings(_env_file=None, router_model="scripted"), cache_dir=cache)
    offline = build_brain(specs, LLMSettings(_env_file=None, model=None, router_model=None), cache_dir=cache)
    assert isinstance(brain, LLMBrain)
    threshold = Settings().route_threshold
    labelled = [r for r in evaluation_rows("test") if r.skill is not None and r.kind != "other-language"]
    right = 0
    used_model = 0
    for row in labelled:
        decision = await brain.route(row.text)
        right += decision.skill == row.skill and decision.routes(threshold)
        used_model += decision.brain == "llm:scripted"
    offline_right = 0
    for row in labelled:
        decision = await offline.route(row.text)
        offline_right += decision.skill == row.skill and decision.routes(threshold)
    assert right >= offline_right * 0.98  # the whole LLM path loses nothing the offline brain gets right
    assert used_model / len(labelled) >= 0.70  # most answers came through the model path, not the fallback


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
