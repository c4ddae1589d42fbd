"""The ``switchboard`` command line as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.secrets import STAFF_ROLES, Secrets
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e]


def switchboard(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_help_explains_every_command() -> None:
    out = switchboard("--help").stdout
    for command in ("up", "chat", "route", "audit", "outbox", "customers", "staff", "serve", "eval", "export"):
        assert command in out


def test_route_jsonl_needs_no_services() -> None:
    done = switchboard("route", "--jsonl", stdin="I was charged twice for my bill\n\nput me through to a person\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["agent"] == "payment" and lines[0]["skill"] == "refund-charge"
    assert lines[1]["agent"] == "escalation" and lines[1]["confidence"] == 1.0
    assert all({"agent", "skill", "confidence"} <= set(line) for line in lines)


@pytest.mark.asyncio(loop_scope="session")
async def test_audit_verify_reports_an_intact_chain(chat: Chat, running: RunningStack) -> None:
    await chat.say("get me a human")  # at least one governed call is recorded
    done = switchboard("audit", "verify", "--data-dir", str(running.data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("intact:")


def test_audit_verify_without_a_log_says_what_to_do(tmp_path) -> None:
    done = switchboard("audit", "verify", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "switchboard up" in done.stderr


def test_staff_lists_the_console_accounts_of_a_running_deployment(running: RunningStack) -> None:
    done = switchboard("staff", "--data-dir", str(running.data_dir))
    assert done.returncode == 0, done.stderr
    roles = {line.split()[1] for line in done.stdout.splitlines()}
    assert roles == set(STAFF_ROLES)  # one account per role on first start
    assert running.stack.secrets is not None
    assert running.stack.secrets.staff_tokens["compliance"].token in done.stdout


def test_staff_add_creates_an_account_with_its_own_token(tmp_path) -> None:
    data_dir = str(tmp_path / "data")
    Secrets.load_or_create(tmp_path / "data")
    added = switchboard("staff", "--data-dir", data_dir, "--add", "ben", "--role", "supervisor")
    assert added.returncode == 0, added.stderr
    token = Secrets.load_or_create(tmp_path / "data").staff_tokens["ben"]
    assert token.role == "supervisor" and token.token in added.stdout
    listed = switchboard("staff", "--data-dir", data_dir)
    assert any(line.split()[:2] == ["ben", "supervisor"] for line in listed.stdout.splitlines())
    bad = switchboard("staff", "--data-dir", data_dir, "--add", "not a name")
    assert bad.returncode == 2 and "staff name" in bad.stdout


def test_staff_before_first_start_says_what_to_do(tmp_path) -> None:
    done = switchboard("staff", "--data-dir", str(tmp_path))
    assert done.returncode == 1 and "switchboard up" in done.stdout
