"""Upgrades run side by side on threads of one process (replicas started together in one test
process, systems opened at once) each finish: Alembic keeps the running migration in module
globals, so unguarded they clobber each other ("KeyError: 'script'", ``op`` is None)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.migrations import STORES, head, sqlite_store, upgrade

SYSTEMS = ("billing", "consent", "crm", "identity", "network", "payments", "support")


def test_upgrades_on_several_threads_at_once_all_reach_the_head(tmp_path: Path) -> None:
    assert set(SYSTEMS) <= set(STORES)
    # Four data directories' worth, eight threads: without the process's guard most of these
    # failed on every run.
    jobs = [(tmp_path / f"{store}-{copy}.db", store) for copy in range(4) for store in SYSTEMS]
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda job: upgrade(sqlite_store(job[0]), job[1]), jobs))
    assert [run.after for run in done] == [head(store) for _, store in jobs]
