"""Idempotency keys for write tools: the first result is stored and returned for every repeat.

The key and the result are written in the same transaction as the action itself, so a crash
can never leave an action done without its key (or a key without its action).
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from shared.audit import digest
from shared.errors import InvalidRequest

DDL = """
CREATE TABLE IF NOT EXISTS idempotency (
    tool TEXT NOT NULL,
    key TEXT NOT NULL,
    args_digest TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (tool, key)
);
"""


async def lookup(db: aiosqlite.Connection, tool: str, key: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """The stored result for ``key``, or None. A key reused with other arguments is refused."""
    async with db.execute("SELECT args_digest, result FROM idempotency WHERE tool = ? AND key = ?", (tool, key)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    if row["args_digest"] != digest(args):
        raise InvalidRequest(
            f"idempotency key {key!r} was already used for a different {tool} request",
            hint="use a new idempotency key for a new request",
        )
    return json.loads(row["result"])


async def record(db: aiosqlite.Connection, tool: str, key: str, args: dict[str, Any], result: dict[str, Any]) -> None:
    """Store the result; the caller commits together with the action."""
    await db.execute(
        "INSERT INTO idempotency (tool, key, args_digest, result) VALUES (?, ?, ?, ?)",
        (tool, key, digest(args), json.dumps(result)),
    )
