"""The labelled routing set in ``evals/routing/``: a training split the brain learns from, and a
test split that only evaluation reads.

Every training step goes through ``training_rows``, which opens the training file and nothing
else, so a held-out score measures messages the brain has never seen (``tests/routing`` checks
that building a brain never opens the test file). ``evaluation_rows`` is for benchmarks and tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.errors import ConfigurationError
from shared.resources import package_dir

# Shipped as package data, so an installed wheel trains on the same split as a checkout.
EVAL_DIR = package_dir("evals", "routing")
TRAIN_FILE = EVAL_DIR / "train.jsonl"
TEST_FILE = EVAL_DIR / "test.jsonl"

Kind = Literal["request", "two-requests", "out-of-scope", "small-talk", "vague", "other-language"]
KINDS: tuple[str, ...] = ("request", "two-requests", "out-of-scope", "small-talk", "vague", "other-language")


@dataclass(frozen=True)
class Labelled:
    """One labelled customer message. ``skill`` is None for the kinds no skill owns."""

    text: str
    kind: str
    agent: str | None = None
    skill: str | None = None
    then_agent: str | None = None
    then_skill: str | None = None
    lang: str | None = None
    style: str | None = None
    group: str | None = None
    """The hand-written message(s) this row was made from (``a+b`` for two requests): variants of
    one message share it, so validation folds of the training split are cut by it."""


def _read(path: Path) -> list[Labelled]:
    if not path.exists():
        raise ConfigurationError(f"routing set {path} is missing", hint="run python evals/routing/build.py")
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        if raw.get("kind") not in KINDS:
            raise ConfigurationError(f"{path.name}:{number}: unknown kind {raw.get('kind')!r}")
        then = raw.get("then") or {}
        rows.append(
            Labelled(
                text=str(raw["text"]),
                kind=str(raw["kind"]),
                agent=raw.get("agent"),
                skill=raw.get("skill"),
                then_agent=then.get("agent"),
                then_skill=then.get("skill"),
                lang=raw.get("lang"),
                style=raw.get("style"),
                group=raw.get("group"),
            )
        )
    return rows


def training_rows(path: Path = TRAIN_FILE) -> list[Labelled]:
    """The training split. Refuses the test split, whatever it is called by the caller."""
    if path.resolve() == TEST_FILE.resolve() or path.name.startswith("test"):
        raise ConfigurationError(
            f"{path} is the held-out test split; training never reads it", hint="train on train.jsonl"
        )
    return _read(path)


def evaluation_rows(split: Literal["train", "test"] = "test") -> list[Labelled]:
    """A split for measuring a brain; never pass these to a training step."""
    return _read(TEST_FILE if split == "test" else TRAIN_FILE)
