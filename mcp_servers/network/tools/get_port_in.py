"""network.get_port_in: the numbers a line is bringing in from other providers, and how far each got.

Added with ``switchboard new-tool``; reads what ``request_port_in`` booked (revision 0008). A move is
complete from the morning of its day on, so the status is worked out when it is read.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import utcnow
from mcp_servers._tooling import READ_ONLY, Msisdn, act, tool_meta
from mcp_servers.network.tools.request_port_in import PortInRequest, as_request
from shared.errors import NotFound


class PortIns(BaseModel):
    msisdn: str
    requests: list[PortInRequest] = Field(description="newest first")


async def read(backend: ReferenceBackend, msisdn: str) -> PortIns:
    if await backend.fetchone("SELECT 1 FROM lines WHERE msisdn = ?", (msisdn,)) is None:
        raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
    rows = await backend.fetchall(
        "SELECT * FROM port_in_requests WHERE msisdn = ? ORDER BY requested_at DESC, reference", (msisdn,)
    )
    today = utcnow().date()
    return PortIns(msisdn=msisdn, requests=[as_request(row, today) for row in rows])


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="get_port_in", annotations=READ_ONLY, meta=tool_meta("msisdn", "msisdn"))
    async def get_port_in(msisdn: Msisdn) -> PortIns:
        """Numbers the line is bringing in from other providers: reference, day of the move and status."""
        return await act(read(backend, msisdn))
