"""A throw-away copy of this source checkout, to scaffold into and run parts of the suite in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "retention"


def copy_tree(dst: Path) -> Path:
    """Every file git tracks or would track (no ignored ones: no data, no caches), and the venv by link."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = ROOT / os.fsdecode(raw)
        if source.is_file():
            target = dst / os.fsdecode(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (dst / ".venv").symlink_to(Path(sys.prefix))
    return dst


def env_for(tree: Path) -> dict[str, str]:
    """Run Python and ``switchboard`` from ``tree``'s sources, not the checkout the venv was installed from."""
    return {**os.environ, "PYTHONPATH": str(tree), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def run(tree: Path, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=tree, env=env_for(tree), capture_output=True, text=True, timeout=timeout)
