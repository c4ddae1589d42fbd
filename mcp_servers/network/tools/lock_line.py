"""network.lock_line: protect a line a customer believes someone else is using.

Added with ``switchboard new-tool``. A locked line keeps working for the customer's own calls, texts
and data, but no porting code is issued and no SIM or eSIM is activated on it, so the number cannot
be taken away while the fraud team looks into it. Only a person lifts a lock (nothing here does).
The table comes with revision 0004.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, utcnow
from mcp_servers._tooling import IDEMPOTENT_WRITE, IdempotencyKey, Msisdn, act, require_call_context, tool_meta
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext

Reason = Annotated[str, Field(min_length=3, max_length=300, description="what the customer reported, briefly")]


class LineLock(BaseModel):
    msisdn: str
    locked: bool
    locked_at: str = Field(description="when the line was first locked")
    reason: str
    blocks: list[str] = Field(description="what the lock stops until a person lifts it")


BLOCKS = ["porting the number away", "SIM and eSIM changes", "premium-rate and international calls"]


async def locked_reason(backend: ReferenceBackend, msisdn: str) -> str | None:
    """Why the line is locked, or None: porting and SIM activation ask this before they act."""
    row = await backend.fetchone("SELECT reason FROM line_locks WHERE msisdn = ?", (msisdn,))
    return None if row is None else str(row["reason"])


async def lock(backend: ReferenceBackend, msisdn: str, reason: str, key: str, call: CallContext) -> LineLock:
    if not reason.strip():
        raise InvalidRequest("a lock needs a reason", hint="say what the customer reported")

    async def write() -> dict[str, Any]:
        if await backend.fetchone("SELECT 1 FROM lines WHERE msisdn = ?", (msisdn,)) is None:
            raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
        # A second report keeps the first lock: when the line was first protected is what matters.
        await backend.execute(
            "INSERT INTO line_locks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO NOTHING",
            (msisdn, reason.strip(), iso(utcnow()), call.agent, call.audit_id, call.conversation_id),
        )
        row = await backend.fetchone("SELECT reason, locked_at FROM line_locks WHERE msisdn = ?", (msisdn,))
        assert row is not None
        return LineLock(
            msisdn=msisdn, locked=True, locked_at=row["locked_at"], reason=row["reason"], blocks=BLOCKS
        ).model_dump()

    return LineLock.model_validate(await backend.idempotent("lock_line", key, {"msisdn": msisdn}, write))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="lock_line", annotations=IDEMPOTENT_WRITE, meta=tool_meta("msisdn", "msisdn"))
    async def lock_line(msisdn: Msisdn, reason: Reason, idempotency_key: IdempotencyKey, ctx: Context) -> LineLock:
        """Lock the line after suspected fraud: no porting, no SIM or eSIM change, no premium or international calls.

        The customer's own calls, texts and data keep working; only a person lifts the lock."""
        return await act(lock(backend, msisdn, reason, idempotency_key, require_call_context(ctx)))
