"""network.list_outages: outages in the line's area, going on or ended in the last 30 days.

Added with ``switchboard new-tool``. Ongoing outages are the network's ``outages``; ended ones, with how
long they lasted and whether they were planned work, are ``outage_records`` (revision 0007, with
the reference dataset's). An ongoing outage has lasted as long as it has been going.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, live_time, parse_iso
from mcp_servers._tooling import READ_ONLY, Msisdn, act, tool_meta
from shared.errors import NotFound

WINDOW_MINUTES = 30 * 24 * 60


class OutageRecord(BaseModel):
    outage_id: str
    description: str
    status: Literal["ongoing", "ended"]
    started_at: str
    ended_at: str | None
    hours: int = Field(description="hours without full service so far (ongoing) or in all (ended)")
    planned: bool = Field(description="announced maintenance rather than a fault")


class AreaOutages(BaseModel):
    msisdn: str
    area: str
    outages: list[OutageRecord] = Field(description="newest first")


async def read(backend: ReferenceBackend, msisdn: str) -> AreaOutages:
    line = await backend.fetchone("SELECT area FROM lines WHERE msisdn = ?", (msisdn,))
    if line is None:
        raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
    ongoing = await backend.fetchall(
        "SELECT outage_id, description, age_minutes FROM outages WHERE area = ? AND active = 1 ORDER BY age_minutes",
        (line["area"],),
    )
    ended = await backend.fetchall(
        "SELECT * FROM outage_records WHERE area = ? AND age_minutes <= ? ORDER BY age_minutes",
        (line["area"], WINDOW_MINUTES),
    )
    found = [
        OutageRecord(
            outage_id=row["outage_id"],
            description=row["description"],
            status="ongoing",
            started_at=live_time(row["age_minutes"]),
            ended_at=None,
            hours=row["age_minutes"] // 60,
            planned=False,
        )
        for row in ongoing
    ]
    for row in ended:
        started = live_time(row["age_minutes"])
        found.append(
            OutageRecord(
                outage_id=row["outage_id"],
                description=row["description"],
                status="ended",
                started_at=started,
                ended_at=iso(parse_iso(started) + timedelta(hours=row["lasted_hours"])),
                hours=row["lasted_hours"],
                planned=bool(row["planned"]),
            )
        )
    return AreaOutages(msisdn=msisdn, area=line["area"], outages=found)


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    @server.tool(name="list_outages", annotations=READ_ONLY, meta=tool_meta("msisdn", "msisdn"))
    async def list_outages(msisdn: Msisdn) -> AreaOutages:
        """Outages in the line's area, ongoing or ended in the last 30 days, with how long they lasted."""
        return await act(read(backend, msisdn))
