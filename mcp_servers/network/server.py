"""The carrier network as an MCP server (lines keyed by msisdn)."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    IdempotencyKey,
    Msisdn,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.network.backend import QOS_PROFILES, NetworkBackend
from mcp_servers.network.models import (
    ConnectivityStatus,
    LineStatus,
    LineTest,
    QosSession,
    RoamingStatus,
    SimBlock,
    SimOrder,
    SimSwap,
    SimSwapCheck,
    SimSwapDate,
)

MaxAge = Annotated[int, Field(ge=1, le=2400, description="hours to look back (CAMARA maxAge)")]
# The profiles are spelled once, in the backend; pydantic reads the tuple at run time, mypy cannot.
QosProfile = Literal[QOS_PROFILES]  # type: ignore[valid-type]
BlockReason = Literal["lost", "stolen"]
Duration = Annotated[int, Field(ge=60, le=86_400, description="seconds the session should last")]


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

    # CAMARA-shaped network APIs: SIM Swap (check, retrieve-date), Device Status, Quality on Demand.

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def sim_swap_check(msisdn: Msisdn, max_age: MaxAge = 240) -> SimSwapCheck:
        """CAMARA SIM Swap check: did the SIM change within max_age hours?"""
        return await act(backend.sim_swap_check(msisdn, max_age))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def sim_swap_retrieve_date(msisdn: Msisdn) -> SimSwapDate:
        """CAMARA SIM Swap retrieve-date: when the SIM last changed."""
        return await act(backend.sim_swap_retrieve_date(msisdn))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def device_connectivity(msisdn: Msisdn) -> ConnectivityStatus:
        """CAMARA Device Status: CONNECTED_DATA, CONNECTED_SMS or NOT_CONNECTED."""
        return await act(backend.connectivity(msisdn))

    @server.tool(annotations=READ_ONLY, meta=by_msisdn)
    async def device_roaming(msisdn: Msisdn) -> RoamingStatus:
        """CAMARA Device Status: whether the device is roaming, and in which country."""
        return await act(backend.roaming(msisdn))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def create_qos_session(
        msisdn: Msisdn, qos_profile: QosProfile, duration: Duration, idempotency_key: IdempotencyKey, ctx: Context
    ) -> QosSession:
        """CAMARA Quality on Demand: boost the line's quality for a while (a governed action)."""
        call = require_call_context(ctx)
        return await act(backend.create_qos_session(msisdn, qos_profile, duration, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def block_sim(msisdn: Msisdn, reason: BlockReason, idempotency_key: IdempotencyKey, ctx: Context) -> SimBlock:
        """Bar the line's SIM at once (lost or stolen phone): no calls, texts or data on it."""
        call = require_call_context(ctx)
        return await act(backend.block_sim(msisdn, reason, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def order_replacement_sim(msisdn: Msisdn, idempotency_key: IdempotencyKey, ctx: Context) -> SimOrder:
        """Send a replacement SIM for the same number to the address on the account."""
        call = require_call_context(ctx)
        return await act(backend.order_replacement_sim(msisdn, idempotency_key, call))

    return server
