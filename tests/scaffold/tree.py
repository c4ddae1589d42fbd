"""A throw-away copy of this source checkout, to scaffold into and run parts of the suite in."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "retention"


def copy_tree(dst: Path) -> Path:
    """Every file git tracks or would track (no data, no caches but bytecode), and the venv by link.

    Each module's compiled bytecode comes along (``copy2`` keeps the source's time stamp, which is
    what the bytecode is checked against), so the copy's first commands do not compile every
    module again; an edited or new module is compiled as usual.
    """
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
        if not source.is_file():
            continue
        target = dst / os.fsdecode(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        if source.suffix == ".py":
            compiled = Path(importlib.util.cache_from_source(str(source)))
            if compiled.is_file():
                into = Path(importlib.util.cache_from_source(str(target)))
                into.parent.mkdir(exist_ok=True)
                shutil.copy2(compiled, into)
    (dst / ".venv").symlink_to(Path(sys.prefix))
    return dst


def env_for(tree: Path, **extra: str) -> dict[str, str]:
    """Run Python and ``switchboard`` from ``tree``'s sources, not the checkout the venv was installed from."""
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return {**os.environ, "PYTHONPATH": str(tree), "PATH": path, **extra}


def run(
    tree: Path, *command: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), cwd=tree, env=env or env_for(tree), capture_output=True, text=True, timeout=timeout
    )
