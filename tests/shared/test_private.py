"""The data directory is owner-only: a wider one is narrowed with a warning, new files are born 0600."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.private import make_private


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    saved = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(saved)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_wide_data_directory_is_narrowed_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    (data / "systems").mkdir(parents=True)
    for name in ("outbox.jsonl", "systems/payments.db", "systems/payments.db-wal", "audit.db-shm"):
        (data / name).write_text("x")
        (data / name).chmod(0o644)
    data.chmod(0o755)
    (data / "systems").chmod(0o775)
    with caplog.at_level(logging.WARNING, logger="shared.private"):
        fixed = make_private(data)
    assert len(fixed) == 6
    assert "readable by other users" in caplog.text
    assert _mode(data) == _mode(data / "systems") == 0o700
    assert {_mode(p) for p in data.rglob("*") if p.is_file()} == {0o600}
    assert make_private(data) == []  # nothing left to fix


def test_files_created_after_start_are_owner_only(tmp_path: Path) -> None:
    make_private(tmp_path / "fresh")
    assert _mode(tmp_path / "fresh") == 0o700
    (tmp_path / "fresh" / "new.log").write_text("x")
    (tmp_path / "fresh" / "sub").mkdir()
    assert _mode(tmp_path / "fresh" / "new.log") == 0o600
    assert _mode(tmp_path / "fresh" / "sub") == 0o700
