"""Upgrades run side by side on threads of one process (replicas started together in one test
process, systems opened at once) each finish: Alembic keeps the running migration in module
globals, so unguarded they clobber each other ("KeyError: 'script'", ``op`` is None)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shared.migrations import head
from tests.packaging.imports import ROOT

SYSTEMS = ("billing", "consent", "crm", "identity", "network", "payments", "support")

# Its own interpreter: eight threads of SQLAlchemy and Alembic at once also enter
# ``warnings.catch_warnings``, which is not thread-safe, and could leave the test runner's
# warning filters changed for every later test in the same worker.
_PROBE = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from shared.migrations import sqlite_store, upgrade

tmp, systems = Path(sys.argv[1]), sys.argv[2:]
jobs = [(tmp / f"{store}-{copy}.db", store) for copy in range(4) for store in systems]
with ThreadPoolExecutor(8) as pool:
    done = list(pool.map(lambda job: upgrade(sqlite_store(job[0]), job[1]), jobs))
print(json.dumps([run.after for run in done]))
"""


def test_upgrades_on_several_threads_at_once_all_reach_the_head(tmp_path: Path) -> None:
    # Four data directories' worth on eight threads: without the process's guard most of these
    # failed on every run.
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path), *SYSTEMS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    reached = json.loads(probe.stdout.splitlines()[-1])
    assert reached == [head(store) for _ in range(4) for store in SYSTEMS]
