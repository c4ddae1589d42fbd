"""The routing brain's trained weights are cached, so a warm start skips training."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from orchestrator.routing import OfflineBrain, skill_specs_from_skills
from orchestrator.routing.corpus import Labelled, training_rows
from shared.skills import load_skills

MESSAGES = [
    "why is my bill so high this month",
    "I was charged twice, refund the duplicate",
    "no signal at home since monday",
    "I want to speak to a person",
    "book me a flight to rome",
    "hello",
]


def _decisions(brain: OfflineBrain) -> list[tuple[str | None, str | None, float]]:
    return [(d.agent, d.skill, d.confidence) for d in map(brain.decide, MESSAGES)]


def test_a_second_start_loads_the_weights_the_first_trained(tmp_path: Path) -> None:
    specs = skill_specs_from_skills(load_skills())
    first = OfflineBrain.from_skills(specs, cache_dir=tmp_path)
    [cached] = tmp_path.glob("router-*.npz")
    written = cached.stat().st_mtime_ns

    second = OfflineBrain.from_skills(specs, cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == written, "the second brain trained again"
    assert _decisions(second) == _decisions(first)
    # Not pickled: numpy opens it with pickles refused.
    with np.load(cached, allow_pickle=False) as data:
        assert "gram_weights" in data.files


def test_changed_training_trains_again_and_replaces_the_cache(tmp_path: Path) -> None:
    specs = skill_specs_from_skills(load_skills())
    OfflineBrain.from_skills(specs, cache_dir=tmp_path)
    [before] = tmp_path.glob("router-*.npz")
    extra = [*training_rows(), Labelled(text="order me a taxi to the airport", kind="out-of-scope")]
    OfflineBrain.from_skills(specs, corpus=extra, cache_dir=tmp_path)
    [after] = tmp_path.glob("router-*.npz")
    assert after != before


def test_a_damaged_cache_file_is_trained_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    specs = skill_specs_from_skills(load_skills())
    trained = OfflineBrain.from_skills(specs, cache_dir=tmp_path)
    [cached] = tmp_path.glob("router-*.npz")
    cached.write_bytes(b"not a numpy archive")
    with caplog.at_level(logging.WARNING, logger="switchboard.routing"):
        again = OfflineBrain.from_skills(specs, cache_dir=tmp_path)
    assert "ignoring the routing weight cache" in caplog.text
    assert _decisions(again) == _decisions(trained)
    with np.load(cached, allow_pickle=False) as data:  # written anew
        assert "bias" in data.files
