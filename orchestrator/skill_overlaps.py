"""The start-up warnings about skills whose examples overlap, kept in the cache by what they read.

``switchboard up`` prints them at every start. Computing them fits the router's features
(scikit-learn, about a second of CPU beside the services starting), so a start whose skills and
routing code are those of an earlier start reads that start's warnings instead: the same
sentences, without loading scikit-learn.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from shared.skills import Skill

log = logging.getLogger("switchboard.skills")

FORMAT = 1
"""Bump when the file layout changes."""


def overlap_warnings_cached(skills: Sequence[Skill], cache_dir: Path) -> list[str]:
    """``overlap_warnings`` for every skill against every other, from ``cache_dir`` when it holds them."""
    key = _digest(skills)
    path = cache_dir / f"skill-overlaps-{key[:32]}.json"
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == key and all(isinstance(w, str) for w in cached["warnings"]):
            return list(cached["warnings"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # damaged: compute and overwrite
        log.warning("ignoring the skill overlap cache %s: %s", path, exc)
    from orchestrator.routing.overlap import overlap_warnings

    warnings = overlap_warnings(skills, [s.name for s in skills])
    _save(cache_dir, path, {"key": key, "warnings": warnings})
    return warnings


def _digest(skills: Sequence[Skill]) -> str:
    """Everything the warnings depend on: the skills' names, owners and examples, the routing code
    (features, normalisation, the thresholds), and the version of the library that fits them."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT, [[s.name, s.agent, list(s.examples)] for s in skills]]).encode())
    spec = importlib.util.find_spec("orchestrator.routing")  # located, not imported
    assert spec is not None and spec.submodule_search_locations is not None
    for source in sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(f"scikit-learn=={metadata.version('scikit-learn')}".encode())
    return digest.hexdigest()


def _save(cache_dir: Path, target: Path, doc: dict[str, object]) -> None:
    """Write atomically and drop older files; a failure only logs (the next start computes again)."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cache_dir, suffix=".tmp", delete=False) as out:
            json.dump(doc, out)
        os.replace(out.name, target)
        for old in cache_dir.glob("skill-overlaps-*.json"):
            if old != target:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not cache the skill overlap warnings in %s: %s", cache_dir, exc)
