"""The routing brain's trained weights are cached, so a warm start skips training.

The cache does not care how many skills it holds, and training all of the shipped ones costs
seconds of CPU each time, so the file trains four of them (a second on a quiet runner) once
(``first``); a test that starts from a cache holds a copy of that file in its own directory and
trains only what it is about: a changed corpus, or over a damaged file.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from orchestrator.routing import OfflineBrain, SkillSpec, skill_specs_from_skills, weights
from orchestrator.routing.corpus import Labelled, training_rows
from orchestrator.routing.weights import KEEP, Trained, training_digest
from shared.skills import load_skills

MESSAGES = [
    "why is my bill so high this month",
    "I was charged twice, refund the duplicate",
    "no signal at home since monday",
    "I want to speak to a person",
    "book me a flight to rome",
    "hello",
]
SKILLS = {"explain-bill", "refund-charge", "troubleshoot-service", "human-handoff"}


def _decisions(brain: OfflineBrain) -> list[tuple[str | None, str | None, float]]:
    return [(d.agent, d.skill, d.confidence) for d in map(brain.decide, MESSAGES)]


@dataclass(frozen=True)
class FirstStart:
    """A brain trained on four shipped skills into an empty cache directory, and the file it wrote."""

    specs: list[SkillSpec]
    brain: OfflineBrain
    cached: Path
    inode: int
    """The file's inode: each save writes a new file and renames it over the old one."""


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> FirstStart:
    cache_dir = tmp_path_factory.mktemp("router-cache")
    specs = [spec for spec in skill_specs_from_skills(load_skills()) if spec.skill in SKILLS]
    brain = OfflineBrain.from_skills(specs, cache_dir=cache_dir)
    [cached] = cache_dir.glob("router-*.npz")
    return FirstStart(specs, brain, cached, cached.stat().st_ino)


def _cache_like_first(first: FirstStart, cache_dir: Path) -> Path:
    """``cache_dir`` holding a copy of the file the first start wrote (a test may alter it)."""
    return Path(shutil.copy2(first.cached, cache_dir))


def test_a_second_start_loads_the_weights_the_first_trained(first: FirstStart) -> None:
    cached = first.cached
    second = OfflineBrain.from_skills(first.specs, cache_dir=cached.parent)
    assert [*cached.parent.glob("router-*.npz")] == [cached]
    assert cached.stat().st_ino == first.inode, "the second brain trained again"
    assert _decisions(second) == _decisions(first.brain)
    # Not pickled: numpy opens it with pickles refused.
    with np.load(cached, allow_pickle=False) as data:
        assert "gram_weights" in data.files


def test_changed_training_trains_again_and_keeps_the_cache_bounded(first: FirstStart, tmp_path: Path) -> None:
    before = _cache_like_first(first, tmp_path)
    # Files of other trainings, older than the first start's: the newest stay, the oldest goes.
    older = [tmp_path / f"router-older-{n}.npz" for n in range(KEEP - 1)]
    for n, path in enumerate(older):
        path.write_bytes(b"older")
        os.utime(path, ns=(n * 10**9, n * 10**9))
    extra = [*training_rows(), Labelled(text="order me a taxi to the airport", kind="out-of-scope")]
    OfflineBrain.from_skills(first.specs, corpus=extra, cache_dir=tmp_path)
    files = set(tmp_path.glob("router-*.npz"))
    assert len(files) == KEEP and before in files  # the first start's weights are still there
    assert len(files - {before, *older}) == 1, files  # trained again, under a key of its own
    assert older[0] not in files and set(older[1:]) <= files


def test_the_weights_in_use_outlive_newer_files_of_other_trainings(first: FirstStart, tmp_path: Path) -> None:
    # The shipped skills' weights, written first and loaded at every start, were the first a
    # bounded cache dropped once other skill sets had been trained since.
    used = _cache_like_first(first, tmp_path)
    os.utime(used, ns=(0, 0))
    newer = [tmp_path / f"router-newer-{n}.npz" for n in range(KEEP - 1)]
    for n, path in enumerate(newer, start=1):
        path.write_bytes(b"newer")
        os.utime(path, ns=(n * 10**9, n * 10**9))
    OfflineBrain.from_skills(first.specs, cache_dir=tmp_path)  # a start that loads them
    extra = [*training_rows(), Labelled(text="order me a taxi to the airport", kind="out-of-scope")]
    OfflineBrain.from_skills(first.specs, corpus=extra, cache_dir=tmp_path)  # another training's file
    files = set(tmp_path.glob("router-*.npz"))
    assert len(files) == KEEP and used in files, files
    assert newer[0] not in files and set(newer[1:]) <= files


def test_a_damaged_cache_file_is_trained_over(
    first: FirstStart, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cached = _cache_like_first(first, tmp_path)
    cached.write_bytes(b"not a numpy archive")
    with caplog.at_level(logging.WARNING, logger="switchboard.routing"):
        again = OfflineBrain.from_skills(first.specs, cache_dir=tmp_path)
    assert "ignoring the routing weight cache" in caplog.text
    assert _decisions(again) == _decisions(first.brain)
    with np.load(cached, allow_pickle=False) as data:  # written anew
        assert "bias" in data.files


def test_a_start_that_misses_while_another_trains_waits_and_loads_its_weights(
    first: FirstStart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes starting on one empty cache: the second misses while the first is training.
    with np.load(first.cached, allow_pickle=False) as data:
        key = str(data["key"])
    weights_of_first = weights.load(first.cached.parent, key)
    assert weights_of_first is not None
    first_is_training, second_has_missed = threading.Event(), threading.Event()
    load = weights.load

    def load_then_tell(cache_dir: Path, key: str) -> Trained | None:
        found = load(cache_dir, key)
        if threading.current_thread().name == "second" and found is None:
            second_has_missed.set()
        return found

    def first_trains() -> Trained:
        first_is_training.set()
        assert second_has_missed.wait(60), "the second start never looked in the cache"
        return weights_of_first

    def second_trains() -> Trained:
        raise AssertionError("the second start trained the weights the first was training")

    monkeypatch.setattr(weights, "load", load_then_tell)
    got: dict[str, Trained] = {}
    starts = [
        threading.Thread(target=lambda: got.update(first=weights.load_or_train(tmp_path, key, first_trains))),
        threading.Thread(target=lambda: got.update(second=weights.load_or_train(tmp_path, key, second_trains))),
    ]
    starts[1].name = "second"
    starts[0].start()
    assert first_is_training.wait(60)
    starts[1].start()
    for start in starts:
        start.join(60)
    assert set(got) == {"first", "second"}
    assert np.array_equal(got["second"].bias, weights_of_first.bias)


@pytest.mark.parametrize("module", ["training.py", "features.py", "embedding.py", "text.py"])
def test_a_change_to_the_code_that_fits_the_weights_trains_again(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cached file keyed without the trainer's own code would be loaded after a change to it.
    args = (["my bill is wrong"], [0], [1.0], ["billing/explain-bill"], 1.0)
    before = training_digest(*args)
    read_bytes = Path.read_bytes

    def edited(path: Path) -> bytes:
        source = read_bytes(path)
        return source + b"\n# edited\n" if path.name == module and path.parent.name == "routing" else source

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert training_digest(*args) != before


def test_a_change_to_how_much_a_phrase_weighs_trains_again() -> None:
    # The same texts and labels fitted with other sample weights give other weights.
    texts, labels, classes = ["my bill is wrong", "my bill is high"], [0, 0], ["billing/explain-bill"]
    assert training_digest(texts, labels, [1.0, 1.0], classes, 1.0) != training_digest(
        texts, labels, [3.0, 1.0], classes, 1.0
    )
