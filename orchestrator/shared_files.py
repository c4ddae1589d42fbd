"""The files in the data directory that the orchestrator processes of one machine share.

``switchboard up --workers`` starts several orchestrator processes on one port: they read the
same A2A task store and the same staff sessions, and the parent empties those sessions at every
start. Kept apart from the launcher and from ``orchestrator.consoles.sessions`` so the parent,
which only prepares the data directory, imports no database layer for it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from shared.sqlite import connect_sync

A2A_TASKS_DB = "a2a_tasks.db"
"""The orchestrator's A2A front's tasks (a specialist keeps its own ``tasks.db``)."""
CONSOLE_SESSIONS_DB = "console_sessions.db"
"""Staff console sessions, shared by the orchestrator processes (``orchestrator.consoles.sessions``)."""


def sign_staff_out(data_dir: Path) -> None:
    """Empty the staff sessions of a data directory (every start of ``up``: a restart signs staff
    out, the safe failure for staff access). Blocking; no file yet, nothing to do."""
    path = Path(data_dir) / CONSOLE_SESSIONS_DB
    if not path.exists():
        return
    with contextlib.closing(connect_sync(path)) as conn, contextlib.suppress(sqlite3.OperationalError):
        conn.execute("DELETE FROM console_sessions")  # OperationalError: the table is not made yet
