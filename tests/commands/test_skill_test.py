"""``switchboard skill test``: one skill's scenarios on a fresh stack, pass or fail each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.evaluation.skill_harness import SUITE, skill_scenarios
from shared.errors import InvalidRequest

ROOT = Path(__file__).resolve().parents[2]


def _switchboard(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "orchestrator.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_an_unknown_skill_or_one_without_scenarios_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="no skill named 'dispute-charge'"):
        skill_scenarios("dispute-charge")
    other = "id: other\ntitle: t\nagent: billing\nskill: explain-bill\nconversation: {turns: [hi]}\n"
    (tmp_path / "other.yaml").write_text(other, encoding="utf-8")
    with pytest.raises(InvalidRequest, match="no scenario exercises 'ticket-status'"):
        skill_scenarios("ticket-status", suite=tmp_path)
    assert {s.skill for s in skill_scenarios("ticket-status", suite=SUITE)} == {"ticket-status"}


@pytest.mark.e2e
def test_it_plays_the_skills_scenarios_through_the_real_gateway() -> None:
    done = _switchboard("skill", "test", "ticket-status")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    played = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("  pass ")]
    assert sorted(played) == sorted(s.id for s in skill_scenarios("ticket-status"))
    assert "0 failed" in done.stdout
