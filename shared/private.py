"""Private by default: the data directory is 0700 and everything in it 0600.

The data directory holds one-time-code messages, live auth contexts, raw tool arguments and
secrets. Every process that writes there first calls ``make_private``: it sets the process
umask so every file created afterwards (SQLite databases and their -wal/-shm, the outbox,
logs, checkpoints) is born owner-only, and it narrows anything already there that another
local user could read, with a warning naming what it changed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077


def make_private(data_dir: Path) -> list[Path]:
    """Create ``data_dir`` (0700) and narrow every entry under it; returns what was widened before."""
    os.umask(_OTHERS)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fixed: list[Path] = []
    for root, dirs, files in os.walk(data_dir):
        for name in [".", *dirs, *files]:
            path = Path(root) / name if name != "." else Path(root)
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue  # removed while we walked (a -shm file of a closing database)
            if stat.S_ISLNK(st.st_mode) or not st.st_mode & _OTHERS:
                continue
            path.chmod(DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE)
            fixed.append(path)
    if fixed:
        shown = ", ".join(str(p) for p in fixed[:5]) + (f" and {len(fixed) - 5} more" if len(fixed) > 5 else "")
        log.warning("the data directory %s was readable by other users; narrowed to owner-only: %s", data_dir, shown)
    return fixed
