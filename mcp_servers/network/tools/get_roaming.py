"""network.get_roaming and network.set_roaming: roaming on the line, and what a day abroad costs.

Added with ``switchboard new-tool``. Roaming is a setting of the line (``roaming_settings``; a line
without a row has it on only while it is abroad, as the dataset seeded it), and the daily price of a
country comes from ``roaming_rates``. The tables and the rates come with revision 0003.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from mcp_servers._backend import ReferenceBackend
from mcp_servers._database import Row
from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    IdempotencyKey,
    Msisdn,
    act,
    require_call_context,
    tool_meta,
)
from shared.errors import NotFound
from shared.tools import CallContext

Country = Annotated[
    str | None,
    Field(default=None, max_length=60, description="a country's name, e.g. Spain; omit for where the line is"),
]


class RoamingRate(BaseModel):
    country_name: str
    zone: str = Field(description="eu, europe-other, world-1 or world-2")
    daily_fee: float = Field(description="charged on each day the phone is used abroad")
    currency: str


class Roaming(BaseModel):
    msisdn: str
    enabled: bool = Field(description="whether the line may be used abroad")
    abroad: bool = Field(description="the network sees the phone abroad now")
    current_country: str | None
    rate: RoamingRate | None = Field(description="the asked country's, else the current country's; null if unknown")
    changed_at: str | None = Field(description="when roaming was last switched on or off here")


async def _line(backend: ReferenceBackend, msisdn: str) -> Row:
    row = await backend.fetchone(
        "SELECT l.roaming, s.roaming AS signal_roaming, s.country_name, r.enabled, r.changed_at FROM lines l"
        " LEFT JOIN line_signals s ON s.msisdn = l.msisdn LEFT JOIN roaming_settings r ON r.msisdn = l.msisdn"
        " WHERE l.msisdn = ?",
        (msisdn,),
    )
    if row is None:
        raise NotFound(f"no mobile line {msisdn}", hint="use the customer's mobile number in E.164 form")
    return row


async def _rate(backend: ReferenceBackend, country: str | None) -> RoamingRate | None:
    if not country:
        return None
    row = await backend.fetchone(
        "SELECT country_name, zone, daily_fee, currency FROM roaming_rates WHERE country = ?",
        (" ".join(country.lower().split()),),
    )
    if row is None:
        return None
    return RoamingRate(
        country_name=row["country_name"], zone=row["zone"], daily_fee=row["daily_fee"], currency=row["currency"]
    )


async def read(backend: ReferenceBackend, msisdn: str, country: str | None) -> Roaming:
    row = await _line(backend, msisdn)
    abroad = bool(row["signal_roaming"] if row["signal_roaming"] is not None else row["roaming"])
    current = row["country_name"] if abroad else None
    enabled = bool(row["enabled"]) if row["enabled"] is not None else abroad
    return Roaming(
        msisdn=msisdn,
        enabled=enabled,
        abroad=abroad,
        current_country=current,
        rate=await _rate(backend, country or current),
        changed_at=row["changed_at"],
    )


async def write(backend: ReferenceBackend, msisdn: str, enabled: bool, key: str, call: CallContext) -> Roaming:
    async def change() -> dict[str, Any]:
        await _line(backend, msisdn)
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await backend.execute(
            "INSERT INTO roaming_settings VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO UPDATE SET"
            " enabled = excluded.enabled, changed_at = excluded.changed_at, agent = excluded.agent,"
            " audit_id = excluded.audit_id, conversation_id = excluded.conversation_id",
            (msisdn, int(enabled), at, call.agent, call.audit_id, call.conversation_id),
        )
        return (await read(backend, msisdn, None)).model_dump()

    args = {"msisdn": msisdn, "enabled": enabled}
    return Roaming.model_validate(await backend.idempotent("set_roaming", key, args, change))


def register(server: MCPServer, backend: ReferenceBackend) -> None:
    by_msisdn = tool_meta("msisdn", "msisdn")

    @server.tool(name="get_roaming", annotations=READ_ONLY, meta=by_msisdn)
    async def get_roaming(msisdn: Msisdn, country: Country = None) -> Roaming:
        """Whether roaming is on for the line, whether it is abroad now, and the daily price in a country."""
        return await act(read(backend, msisdn, country))

    @server.tool(name="set_roaming", annotations=IDEMPOTENT_WRITE, meta=by_msisdn)
    async def set_roaming(msisdn: Msisdn, enabled: bool, idempotency_key: IdempotencyKey, ctx: Context) -> Roaming:
        """Switch roaming on or off for the line: off, the phone cannot be used on networks abroad."""
        return await act(write(backend, msisdn, enabled, idempotency_key, require_call_context(ctx)))
