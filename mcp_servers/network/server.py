"""The carrier network as an MCP server (lines keyed by msisdn)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from mcp_servers._tooling import READ_ONLY, Msisdn, act, tool_meta
from mcp_servers.network.backend import NetworkBackend
from mcp_servers.network.models import LineStatus, LineTest, SimSwap


def build_server(backend: NetworkBackend) -> MCPServer:
    server = MCPServer(
        "network", version="1", instructions="Line, SIM and outage status, by msisdn.", log_level="WARNING"
    )
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def get_line_status(msisdn: Msisdn) -> LineStatus:
        """SIM, device and connectivity of the line, and any outage in its area."""
        return await act(backend.get_line_status(msisdn))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def run_line_test(msisdn: Msisdn) -> LineTest:
        """Test the line end to end; findings say what is wrong when it fails."""
        return await act(backend.run_line_test(msisdn))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def check_sim_swap(msisdn: Msisdn, max_age_hours: Annotated[int, Field(ge=1, le=2400)] = 240) -> SimSwap:
        """Whether the SIM changed within max_age_hours (a fraud signal), and when it last changed."""
        return await act(backend.check_sim_swap(msisdn, max_age_hours))

    return server
