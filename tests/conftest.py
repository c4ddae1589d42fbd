"""What every test run shares: one cache of the router's trained weights, and the files' order.

Every stack a test starts (in process or as child processes) trains the offline router on the
same skills unless its weights are cached, and each training costs seconds of CPU. The cache is
keyed by a digest of everything the training reads (``orchestrator/routing/weights.py``), so
stacks with other skills train their own, and writes are atomic, so parallel workers can share
it. Set before any worker starts, so every worker and every child process inherits it. A test
about the cache itself passes a directory of its own.

``make test`` hands whole files to two workers in the order the files are collected
(``--dist loadfile --no-loadscope-reorder``). A file marked ``slow_file`` (a minute or more: the
wheel build, the whole walkthrough, the scale-out processes, mypy on a cold cache) is collected
first, so the two workers start on the longest files and end on short ones, together; the other
files keep the order xdist gives them by default, the files with the most tests first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow setup first, then the files with the most tests; a file's tests keep their order."""
    tests_in = Counter(item.nodeid.split("::", 1)[0] for item in items)
    slow = {item.nodeid.split("::", 1)[0] for item in items if item.get_closest_marker("slow_file")}

    def rank(item: pytest.Item) -> tuple[bool, int]:
        path = item.nodeid.split("::", 1)[0]
        return (path not in slow, -tests_in[path])

    items.sort(key=rank)  # stable: equal files keep the collection order, and so do their tests
