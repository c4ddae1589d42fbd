"""The network backend interface and its SQLite reference implementation."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import aiosqlite

from mcp_servers._sqlite_backend import SqliteBackend
from mcp_servers._time import live_time, parse_iso, utcnow
from mcp_servers.network.models import LineStatus, LineTest, Outage, SimSwap
from mcp_servers.network.schema import SCHEMA
from shared.errors import NotFound


class NetworkBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_line_status(self, msisdn: str) -> LineStatus: ...
    async def run_line_test(self, msisdn: str) -> LineTest: ...
    async def check_sim_swap(self, msisdn: str, max_age_hours: int) -> SimSwap: ...


def _sim_change(row: aiosqlite.Row) -> str | None:
    if row["sim_change_age_minutes"] is not None:
        return live_time(row["sim_change_age_minutes"])
    return row["last_sim_change"]


class SqliteNetworkBackend(SqliteBackend):
    schema = SCHEMA

    async def _line(self, msisdn: str) -> aiosqlite.Row:
        row = await self.fetchone("SELECT * FROM lines WHERE msisdn = ?", (msisdn,))
        if row is None:
            raise NotFound(
                f"no mobile line {msisdn}",
                hint="use the customer's mobile number in E.164 form, e.g. +447700900123",
            )
        return row

    async def _outage(self, area: str) -> Outage | None:
        row = await self.fetchone(
            "SELECT * FROM outages WHERE area = ? AND active = 1 ORDER BY age_minutes LIMIT 1", (area,)
        )
        if row is None:
            return None
        return Outage(id=row["outage_id"], description=row["description"], started_at=live_time(row["age_minutes"]))

    async def get_line_status(self, msisdn: str) -> LineStatus:
        row = await self._line(msisdn)
        return LineStatus(
            msisdn=msisdn,
            sim_status=row["sim_status"],
            device_model=row["device_model"],
            connectivity=row["connectivity"],
            roaming=bool(row["roaming"]),
            area=row["area"],
            area_outage=await self._outage(row["area"]),
            last_sim_change=_sim_change(row),
        )

    async def run_line_test(self, msisdn: str) -> LineTest:
        row = await self._line(msisdn)
        findings = []
        if row["sim_status"] != "active":
            findings.append(f"SIM is {row['sim_status']}: calls and data are barred")
        outage = await self._outage(row["area"])
        if outage is not None:
            findings.append(f"area outage {outage.id} in {row['area']}: {outage.description}")
        if row["connectivity"] != "normal":
            findings.append("weak radio signal at the customer's usual location (RSRP -118 dBm)")
        if findings:
            return LineTest(result="fail", findings=findings)
        return LineTest(
            result="pass",
            findings=["SIM registered on the network", "data session opened", "test call connected"],
        )

    async def check_sim_swap(self, msisdn: str, max_age_hours: int) -> SimSwap:
        latest = _sim_change(await self._line(msisdn))
        swapped = latest is not None and parse_iso(latest) >= utcnow() - timedelta(hours=max_age_hours)
        return SimSwap(swapped=swapped, latest_sim_change=latest, max_age_hours=max_age_hours)
