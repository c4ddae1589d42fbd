"""Idempotency keys for write tools: the first result is stored and returned for every repeat.

The key is claimed (a row under the unique key) at the start of the action's transaction and
its result stored before that transaction commits, so a crash can never leave an action done
without its key, or a key without its action. A second call with the same key, concurrent or
from another replica, waits on the claim and then reads the first result.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shared.audit import digest
from shared.errors import InvalidRequest

if TYPE_CHECKING:
    from mcp_servers._database import Transaction

# The table is defined in ``mcp_servers._tables`` (every system has one) and created by its revisions.

# The claimed row's result until the action's result replaces it in the same transaction.
_CLAIMED = ""


async def claim(tx: Transaction, tool: str, key: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """None when ``key`` is now ours to act on; else the stored result. Other arguments are refused."""
    args_digest = digest(args)
    if await tx.execute(
        "INSERT INTO idempotency (tool, key, args_digest, result) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (tool, key) DO NOTHING",
        (tool, key, args_digest, _CLAIMED),
    ):
        return None
    row = await tx.fetchone("SELECT args_digest, result FROM idempotency WHERE tool = ? AND key = ?", (tool, key))
    assert row is not None and row["result"] != _CLAIMED, "a claim is only seen once its transaction committed"
    if row["args_digest"] != args_digest:
        raise InvalidRequest(
            f"idempotency key {key!r} was already used for a different {tool} request",
            hint="use a new idempotency key for a new request",
        )
    result: dict[str, Any] = json.loads(row["result"])
    return result


async def record(tx: Transaction, tool: str, key: str, result: dict[str, Any]) -> None:
    """Store the result of the claimed key; it commits together with the action."""
    await tx.execute("UPDATE idempotency SET result = ? WHERE tool = ? AND key = ?", (json.dumps(result), tool, key))
