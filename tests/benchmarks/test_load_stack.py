"""benchmarks/load.py's stack: its output is kept, and a start-up failure shows why."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


async def test_a_stack_that_fails_to_start_shows_the_end_of_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # a folder of scripts: load.py imports its neighbours
    import load

    # A setting `up` refuses before it starts anything: it exits at once, saying which.
    monkeypatch.setenv("SWITCHBOARD_READY_TIMEOUT_SECONDS", "0")
    log = tmp_path / "stack.log"
    with pytest.raises(SystemExit) as failed:
        async with load.switchboard_up(tmp_path / "data", 10, 2, log):
            pytest.fail("a stack that cannot start must not be used")
    said = str(failed.value)
    assert said.startswith(f"switchboard up exited during start-up; the end of {log}:")
    assert "ready_timeout_seconds" in said, "the end of the stack's own output must be shown"
    assert "ready_timeout_seconds" in log.read_text(), "the stack's output must stay in its log file"
