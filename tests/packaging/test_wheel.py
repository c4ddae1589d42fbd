"""The built wheel, installed as a user installs it: a fresh virtualenv outside the checkout.

Builds the wheel from this checkout, installs it (pip's cache makes the dependencies quick),
and runs the installed ``switchboard`` from a folder with no source next to it: the policies,
skills, evals and web pages must come from the installed package data.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_up_and_chat import Lines, _free_base_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow_file]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    venv: Path
    cwd: Path  # an empty folder outside the checkout

    @property
    def switchboard(self) -> str:
        return str(self.venv / "bin" / "switchboard")

    @property
    def env(self) -> dict[str, str]:
        # Bytecode is written as a user's would be: the modules the first command compiles serve the next.
        unset = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        return {**env, "PYTHONUNBUFFERED": "1", "PYTHONSAFEPATH": "1"}

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.switchboard, *args], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"switchboard {' '.join(args)}: {done.stderr[-2000:]}"
        return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source, dist, venv, cwd = work / "source", work / "dist", work / "venv", work / "elsewhere"
    cwd.mkdir()
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources it builds.
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "data", "test-artifacts", "node_modules")
    shutil.copytree(ROOT, source, ignore=skip)
    pip = ["--disable-pip-version-check", "--no-input", "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *pip, "--no-deps", "--wheel-dir", str(dist), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("switchboard-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # No byte-compiling of every installed module (over a minute of CPU for the dependencies):
    # Python compiles what the tests import as it imports it, as it would after any install.
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", *pip, "--no-compile", str(wheel)]
    subprocess.run(install, check=True, timeout=900)
    yield Installed(venv, cwd)


def test_the_installed_package_is_the_one_running(installed: Installed) -> None:
    probe = "import gateway, skills, evals; print(gateway.__file__, skills.__file__, evals.__file__)"
    done = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", probe],
        cwd=installed.cwd,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for path in done.stdout.split():
        assert Path(path).is_relative_to(installed.venv), path
    licenses = list(installed.venv.glob("lib/python*/site-packages/switchboard-*.dist-info/licenses/LICENSE"))
    assert licenses and "Apache License" in licenses[0].read_text()


def test_route_and_an_eval_scenario_run_from_the_wheel(installed: Installed) -> None:
    routed = installed.run("route", "I was charged twice for the same bill")
    assert '"agent": "payment"' in routed.stdout, routed.stdout
    listed = installed.run("eval", "list").stdout.splitlines()
    # The first shipped scenario that needs nothing beyond the embedded stack.
    scenario = next(line.split()[0] for line in listed if "(needs" not in line)
    ran = installed.run("eval", "run", "--only", scenario, "--data-dir", str(installed.cwd / "eval"))
    assert "1 scenarios x 1 trial(s)" in ran.stdout and "0 skipped" in ran.stdout, ran.stdout


def test_up_serves_the_pages_and_stops_on_ctrl_c(installed: Installed) -> None:
    base = _free_base_port()
    data = installed.cwd / "up"
    log = (installed.cwd / "up.log").open("w")
    up = subprocess.Popen(
        [installed.switchboard, "up", "--data-dir", str(data), "--base-port", str(base), "--log-level", "warning"],
        cwd=installed.cwd,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines = Lines(up)
    try:
        printed = "\n".join(lines.until("Stop: Ctrl+C"))
        for name in ("orchestrator API", "governance gateway", "web chat", "staff consoles", "data directory"):
            assert name in printed
        site = f"http://127.0.0.1:{base}"
        with httpx.Client(base_url=site, timeout=10) as http:
            assert http.get("/healthz").status_code == 200
            chat = http.get("/chat")
            assert chat.status_code == 200 and "<html" in chat.text
            for asset in ("/chat/static/chat.js", "/chat/static/chat.css", "/console/static/console.css"):
                assert http.get(asset).status_code == 200, asset
            console = http.get("/console", follow_redirects=True)
            assert console.status_code == 200 and "<html" in console.text
        up.send_signal(signal.SIGINT)
        lines.until("Stopped.")
        assert up.wait(timeout=60) == 0, (installed.cwd / "up.log").read_text()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        lines.drain()
        assert up.stdout is not None
        up.stdout.close()
        log.close()
