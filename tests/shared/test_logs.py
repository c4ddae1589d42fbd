"""An MCP system built in a process keeps the process's log format (shared.logs).

The MCP SDK configures logging its own way whenever an ``MCPServer`` is built; each case runs in
a fresh interpreter, because pytest's own handlers on the root logger would hide that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.packaging.imports import ROOT

BUILD_A_SYSTEM = """
import logging, sys
from pathlib import Path
{configure}
from mcp_servers.crm.backend import ReferenceCrmBackend
from mcp_servers.crm.server import build_server

before = list(logging.getLogger().handlers)
build_server(ReferenceCrmBackend(Path(sys.argv[1])))
print(logging.getLogger().handlers == before)
logging.getLogger("switchboard.probe").warning("the line")
"""
OURS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING switchboard\.probe: the line$")


def _run(configure: str, data_dir: Path) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", BUILD_A_SYSTEM.format(configure=configure), str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip(), done.stderr.strip()


def test_a_system_built_after_our_logging_is_configured_keeps_our_format(tmp_path: Path) -> None:
    kept, line = _run("from shared.logs import configure_logging\nconfigure_logging('info')", tmp_path)
    assert kept == "True"
    assert OURS.match(line), line


def test_without_it_the_sdk_installs_its_own_format(tmp_path: Path) -> None:
    """Why the order matters: what the SDK does to a process that has not configured logging."""
    kept, line = _run("", tmp_path)
    assert kept == "False"
    assert "the line" in line and not OURS.match(line), line
