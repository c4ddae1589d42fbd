"""What every test run shares: one cache of the router's trained weights.

Every stack a test starts (in process or as child processes) trains the offline router on the
same skills unless its weights are cached, and each training costs seconds of CPU. The cache is
keyed by a digest of everything the training reads (``orchestrator/routing/weights.py``), so
stacks with other skills train their own, and writes are atomic, so parallel workers can share
it. Set before any worker starts, so every worker and every child process inherits it. A test
about the cache itself passes a directory of its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE_ENV = "SWITCHBOARD_CACHE_DIR"
_owned = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _CACHE_ENV in os.environ:
        return  # a worker inherits the controller's; a cache chosen by the caller is kept
    cache = tempfile.mkdtemp(prefix="switchboard-test-router-cache-")
    os.environ[_CACHE_ENV] = cache
    config.stash[_owned] = cache


def pytest_unconfigure(config: pytest.Config) -> None:
    cache = config.stash.get(_owned, None)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
        os.environ.pop(_CACHE_ENV, None)
