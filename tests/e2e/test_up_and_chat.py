"""``switchboard up`` and ``switchboard chat`` as separate processes, the way a user runs them."""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from agents import agent_names
from shared.settings import SYSTEMS

pytestmark = [pytest.mark.e2e]

CLI = [sys.executable, "-m", "orchestrator.cli"]
SPAN = 32  # the embedded layout's ports start at the base port; it uses fewer than this


def _free_base_port() -> int:
    """A base port whose next SPAN ports are all free on loopback right now.

    Below the kernel's ephemeral range: an outgoing connection of another test's process (to
    PostgreSQL, NATS, a peer) may take any port there between this check and the stack's bind.
    """
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32_768  # Linux's default
    for _ in range(100):
        base = random.randrange(10_000, ephemeral_low - SPAN)
        held: list[socket.socket] = []
        try:
            for port in range(base, base + SPAN):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return base
    raise RuntimeError("no free run of loopback ports")


class Lines:
    """A process's stdout, line by line, with a deadline on each wait."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                self._lines.put(line.rstrip("\n"))
            self._lines.put(None)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    def drain(self) -> None:
        """Wait for end of output (the process has exited or been killed)."""
        self._pump.join(timeout=30)

    def until(self, text: str, timeout: float = 180.0) -> list[str]:
        while True:
            line = self._lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the process ended before printing {text!r}:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if text in line:
                return self.seen


def test_up_prints_where_everything_listens_serves_a_chat_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    base = _free_base_port()
    where = ["--data-dir", str(tmp_path / "data"), "--base-port", str(base)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Open event streams end (and the chat reconnects) every few seconds, so Ctrl+C is quick.
    up_env = {**env, "SWITCHBOARD_STREAM_LIFETIME_SECONDS": "3"}
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen(
        [*CLI, "up", *where, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
        env=up_env,
        start_new_session=True,
    )
    lines = Lines(up)
    staying: subprocess.Popen[str] | None = None
    try:
        printed = "\n".join(lines.until("Stop: Ctrl+C"))
        for name in ("orchestrator API", "governance gateway", "web chat", "data directory"):
            assert name in printed
        for agent in agent_names():
            assert f"agent {agent}" in printed
        for system in SYSTEMS:
            assert f"mcp   {system}" in printed
        orchestrator = f"http://127.0.0.1:{base}"
        assert httpx.get(f"{orchestrator}/healthz", timeout=10).status_code == 200

        chat = subprocess.run(
            [*CLI, "chat", *where],
            input="I was charged twice for the same bill\n/quit\n",
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert chat.returncode == 0, chat.stderr
        replies = [line for line in chat.stdout.splitlines() if "> " in line]
        # The greeting says an automated assistant answers and a person is there on request, once.
        assert replies[0].startswith("supervisor> ") and "automated assistant" in replies[0], chat.stdout
        assert "ask for a person" in replies[0] and chat.stdout.count("automated assistant") == 1, chat.stdout
        # A refund needs a verified customer first: the identity agent answers, and says so.
        assert any(line.startswith("you> identity> ") for line in replies), chat.stdout

        # A chat still open when the server stops ends with one line, not a traceback.
        staying = subprocess.Popen(
            [*CLI, "chat", *where],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert staying.stdout is not None
        assert staying.stdout.readline().startswith("[conversation ")
        assert staying.stdout.readline().startswith("supervisor> ")

        up.send_signal(signal.SIGINT)
        lines.until("Stopped.")
        assert staying.wait(timeout=60) == 2  # stdin stays open: the chat noticed by itself
        assert staying.stderr is not None
        said = staying.stderr.read()
        assert said.strip().splitlines() == [f"The server at {orchestrator} went away; the conversation has ended."]
        assert up.wait(timeout=60) == 0, (tmp_path / "up.log").read_text()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{orchestrator}/healthz", timeout=5)
        # With nothing running, chat says what to do instead of a traceback.
        late = subprocess.run([*CLI, "chat", *where], input="hello\n", capture_output=True, text=True, timeout=60)
        assert late.returncode == 2
        assert "Is `switchboard up` running?" in late.stderr and "Traceback" not in late.stderr
    finally:
        if staying is not None:
            if staying.poll() is None:
                staying.kill()
            staying.communicate()  # closes its pipes
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        lines.drain()
        assert up.stdout is not None
        up.stdout.close()
        log.close()
