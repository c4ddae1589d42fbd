"""The local outbox: where the identity reference backend "delivers" one-time codes.

Each message is one JSON line in ``<data_dir>/outbox.jsonl``: at, customer_id, channel, to, text.
It stands in for the SMS and email providers, so it holds codes in plain text: the file is
created owner-only (0600) and read only by the local operator command ``switchboard outbox``.
The identity database itself keeps nothing but keyed hashes of the codes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

OUTBOX_FILE = "outbox.jsonl"


def outbox_path(data_dir: Path) -> Path:
    return Path(data_dir) / OUTBOX_FILE


def append_message(data_dir: Path, message: dict[str, Any]) -> None:
    """Append one message (blocking; call it from a worker thread in async code)."""
    path = outbox_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(json.dumps(message, ensure_ascii=False) + "\n")


def read_outbox(data_dir: Path, *, customer_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest ``limit`` messages (oldest first), optionally only one customer's."""
    path = outbox_path(data_dir)
    if not path.exists():
        return []
    messages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a torn last line from a crash mid-append is not worth failing the CLI for
        if isinstance(message, dict) and (customer_id is None or message.get("customer_id") == customer_id):
            messages.append(message)
    return messages[-limit:] if limit > 0 else []
