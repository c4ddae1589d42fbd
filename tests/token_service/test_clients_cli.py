"""``switchboard clients register``: an operator registers an external agent; the secret is shown once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from token_service import ClientRegistry
from token_service.clients import CLIENTS_FILE


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "clients", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_register_list_and_revoke(tmp_path: Path) -> None:
    registered = run(tmp_path, "register", "partner-bot", "--audience", "orchestrator", "--audience", "agent:billing")
    assert registered.returncode == 0, registered.stderr
    fields = dict(line.split(None, 1) for line in registered.stdout.splitlines() if line.startswith("client_"))
    client_id, secret = fields["client_id"].strip(), fields["client_secret"].strip()
    assert client_id == "external:partner-bot"
    assert secret not in (tmp_path / CLIENTS_FILE).read_text()
    assert ClientRegistry.open(tmp_path).authenticate(client_id, secret) is not None
    listed = run(tmp_path, "list")
    assert "external:partner-bot" in listed.stdout and secret not in listed.stdout
    assert "orchestrator, agent:billing" in listed.stdout
    again = run(tmp_path, "register", "partner-bot")
    assert again.returncode != 0 and "exists" in (again.stdout + again.stderr)
    assert run(tmp_path, "revoke", client_id).returncode == 0
    assert ClientRegistry.open(tmp_path).authenticate(client_id, secret) is None


def test_an_external_agent_cannot_be_granted_the_gateway(tmp_path: Path) -> None:
    refused = run(tmp_path, "register", "sneaky", "--audience", "gateway")
    assert refused.returncode != 0
    assert "may not be granted 'gateway'" in (refused.stdout + refused.stderr)
    assert not (tmp_path / CLIENTS_FILE).exists()
