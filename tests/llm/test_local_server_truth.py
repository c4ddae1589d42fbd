"""The opt-in real-model tests report a crashed or unreachable server as such, with its log tail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared.serving import bind
from tests.llm.local_server import LocalServer, exit_status, missing_packages

CRASH = (
    "import os, signal, sys; print('llama_model_load: loaded meta data'); sys.stdout.flush(); "
    "os.kill(os.getpid(), signal.SIGILL)"
)


def test_a_crashed_server_is_named_with_its_signal_and_log_tail(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-c", CRASH], stdout=log, stderr=subprocess.STDOUT)
    process.wait(timeout=30)
    server = LocalServer("http://127.0.0.1:9/v1", process, log_path)
    why = server.failure()
    assert why is not None and why.startswith("the model server crashed (killed by SIGILL")
    assert "an instruction this CPU does not have" in why and "llama_model_load: loaded meta data" in why


def test_an_unreachable_server_is_named_as_unreachable(tmp_path: Path) -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    why = LocalServer(f"http://127.0.0.1:{port}/v1").failure()
    assert why is not None and f"127.0.0.1:{port}/v1 is unreachable" in why
    assert "log is not available" in why


def test_exit_statuses_read_as_words() -> None:
    assert exit_status(1) == "exit code 1"
    assert exit_status(-9) == "killed by SIGKILL"


def test_an_external_servers_log_tail_is_shown_when_it_is_unreachable(tmp_path: Path) -> None:
    log_path = tmp_path / "llama.log"
    log_path.write_text("llama_new_context_with_model: n_ctx = 2048\nSegmentation fault\n")
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    why = LocalServer(f"http://127.0.0.1:{port}/v1", log_path=log_path).failure()
    assert why is not None and "is unreachable" in why and "Segmentation fault" in why


def test_a_configured_model_without_its_packages_is_a_failure_not_a_skip(tmp_path: Path) -> None:
    lacking = missing_packages(sys.executable, ("json", "no_such_module_here"))
    assert lacking is not None and "lacks json or no_such_module_here" in lacking
    assert missing_packages(sys.executable, ("json",)) is None
    gone = missing_packages(str(tmp_path / "no-python"))
    assert gone is not None and "cannot run" in gone
