"""No training step reads the held-out test split."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.routing import OfflineBrain, skill_specs_from_skills
from orchestrator.routing import corpus as corpus_module
from orchestrator.routing.corpus import TEST_FILE, TRAIN_FILE, training_rows
from shared.errors import ConfigurationError
from shared.skills import load_skills


def test_training_refuses_the_test_split() -> None:
    with pytest.raises(ConfigurationError, match="held-out"):
        training_rows(TEST_FILE)
    with pytest.raises(ConfigurationError, match="held-out"):
        training_rows(Path("elsewhere") / "test.jsonl")


def test_building_a_brain_never_opens_the_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    original = Path.read_text

    def spy(self: Path, *args: object, **kwargs: object) -> str:
        opened.append(self.resolve())
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    # Two skills read and train through the same code as all of them, for a fraction of the CPU.
    specs = [spec for spec in skill_specs_from_skills(load_skills()) if spec.skill in {"explain-bill", "roaming"}]
    monkeypatch.setattr(Path, "read_text", spy)
    OfflineBrain.from_skills(specs)
    assert TRAIN_FILE.resolve() in opened
    assert TEST_FILE.resolve() not in opened


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"text": "hi", "kind": "chit-chat"}\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="unknown kind"):
        corpus_module.training_rows(bad)
