"""The network backend interface and its reference implementation (SQLite or PostgreSQL)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Protocol

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._backend import ReferenceBackend
from mcp_servers._database import Row
from mcp_servers._time import iso, live_time, parse_iso, utcnow
from mcp_servers.network.models import (
    ConnectivityStatus,
    LineStatus,
    LineTest,
    Outage,
    QosSession,
    RoamingStatus,
    SimBlock,
    SimOrder,
    SimSwap,
    SimSwapCheck,
    SimSwapDate,
)
from shared.errors import InvalidRequest, NotFound
from shared.events import CONNECTIVITY_CHANGED, ROAMING_CHANGED, SIM_SWAPPED, data_of, kind_of
from shared.tools import CallContext

QOS_PROFILES = ("QOS_S", "QOS_M", "QOS_L", "QOS_E")


class NetworkBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_line_status(self, msisdn: str) -> LineStatus: ...
    async def run_line_test(self, msisdn: str) -> LineTest: ...
    async def check_sim_swap(self, msisdn: str, max_age_hours: int) -> SimSwap: ...
    async def sim_swap_check(self, msisdn: str, max_age: int) -> SimSwapCheck: ...
    async def sim_swap_retrieve_date(self, msisdn: str) -> SimSwapDate: ...
    async def connectivity(self, msisdn: str) -> ConnectivityStatus: ...
    async def roaming(self, msisdn: str) -> RoamingStatus: ...
    async def create_qos_session(
        self, msisdn: str, qos_profile: str, duration: int, key: str, call: CallContext
    ) -> QosSession: ...
    async def block_sim(self, msisdn: str, reason: str, key: str, call: CallContext) -> SimBlock: ...
    async def order_replacement_sim(self, msisdn: str, key: str, call: CallContext) -> SimOrder: ...


def _sim_change(row: Row) -> str | None:
    dataset = live_time(row["sim_change_age_minutes"]) if row["sim_change_age_minutes"] is not None else None
    known = [t for t in (dataset or row["last_sim_change"], row["sim_swapped_at"]) if t]
    return max(known, key=parse_iso) if known else None


class ReferenceNetworkBackend(ReferenceBackend):
    system = "network"

    async def _line(self, msisdn: str) -> Row:
        row = await self.fetchone(
            "SELECT l.*, s.reachability, s.roaming AS signal_roaming, s.country_code, s.country_name,"
            " s.sim_swapped_at, s.updated_at AS signal_at"
            " FROM lines l LEFT JOIN line_signals s ON s.msisdn = l.msisdn WHERE l.msisdn = ?",
            (msisdn,),
        )
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

    async def sim_swap_check(self, msisdn: str, max_age: int) -> SimSwapCheck:
        return SimSwapCheck(swapped=(await self.check_sim_swap(msisdn, max_age)).swapped)

    async def sim_swap_retrieve_date(self, msisdn: str) -> SimSwapDate:
        latest = _sim_change(await self._line(msisdn))
        return SimSwapDate(latestSimChange=latest, monitoredPeriod=None if latest else 120)

    async def connectivity(self, msisdn: str) -> ConnectivityStatus:
        row = await self._line(msisdn)
        if row["reachability"]:
            status = row["reachability"]
        elif row["sim_status"] != "active":
            status = "NOT_CONNECTED"
        else:
            status = "CONNECTED_DATA" if row["connectivity"] == "normal" else "CONNECTED_SMS"
        return ConnectivityStatus(connectivityStatus=status, lastStatusTime=row["signal_at"])

    async def roaming(self, msisdn: str) -> RoamingStatus:
        row = await self._line(msisdn)
        roaming = bool(row["signal_roaming"] if row["signal_roaming"] is not None else row["roaming"])
        return RoamingStatus(
            roaming=roaming,
            countryCode=row["country_code"] if roaming else None,
            countryName=[row["country_name"]] if roaming and row["country_name"] else [],
            lastStatusTime=row["signal_at"],
        )

    async def create_qos_session(
        self, msisdn: str, qos_profile: str, duration: int, key: str, call: CallContext
    ) -> QosSession:
        if qos_profile not in QOS_PROFILES:
            raise InvalidRequest(f"unknown QoS profile {qos_profile!r}", hint=f"use one of {', '.join(QOS_PROFILES)}")

        async def write() -> dict[str, Any]:
            row = await self._line(msisdn)
            if row["sim_status"] != "active":
                raise InvalidRequest(
                    f"the SIM on {msisdn} is {row['sim_status']}: no QoS session can be set up",
                    hint="fix the SIM first",
                )
            now = utcnow()
            session = QosSession(
                sessionId=f"QOS-{secrets.token_hex(6)}",
                qosProfile=qos_profile,
                qosStatus="AVAILABLE",
                startedAt=iso(now),
                expiresAt=iso(now + timedelta(seconds=duration)),
                duration=duration,
            )
            await self.execute(
                "INSERT INTO qos_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.sessionId,
                    msisdn,
                    qos_profile,
                    session.qosStatus,
                    session.startedAt,
                    session.expiresAt,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            return session.model_dump()

        args = {"msisdn": msisdn, "qos_profile": qos_profile, "duration": duration}
        return QosSession.model_validate(await self.idempotent("create_qos_session", key, args, write))

    async def block_sim(self, msisdn: str, reason: str, key: str, call: CallContext) -> SimBlock:
        async def write() -> dict[str, Any]:
            await self._line(msisdn)
            block = SimBlock(msisdn=msisdn, sim_status="blocked", blocked_at=iso(utcnow()), reason=reason)
            await self.execute("UPDATE lines SET sim_status = 'blocked' WHERE msisdn = ?", (msisdn,))
            # A second block (another channel, another day) keeps the first record: when it was barred.
            await self.execute(
                "INSERT INTO sim_blocks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO NOTHING",
                (msisdn, reason, block.blocked_at, call.agent, call.audit_id, call.conversation_id),
            )
            return block.model_dump()

        return SimBlock.model_validate(await self.idempotent("block_sim", key, {"msisdn": msisdn}, write))

    async def order_replacement_sim(self, msisdn: str, key: str, call: CallContext) -> SimOrder:
        async def write() -> dict[str, Any]:
            await self._line(msisdn)
            now = utcnow()
            order = SimOrder(
                order_id=f"SIM-{secrets.token_hex(4).upper()}",
                msisdn=msisdn,
                status="dispatched",
                expected_delivery=(now + timedelta(days=2)).date().isoformat(),
            )
            await self.execute(
                "INSERT INTO sim_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.order_id,
                    msisdn,
                    order.status,
                    order.expected_delivery,
                    iso(now),
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            return order.model_dump()

        return SimOrder.model_validate(await self.idempotent("order_replacement_sim", key, {"msisdn": msisdn}, write))

    async def apply_signal(self, event: CloudEvent) -> bool:
        """Record what a network signal reported about a line (idempotent per event id)."""
        kind = kind_of(event)
        if kind not in (SIM_SWAPPED, ROAMING_CHANGED, CONNECTIVITY_CHANGED):
            return False
        data = data_of(event)
        msisdn, at = data.get("msisdn"), data.get("occurred_at") or iso(utcnow())
        if not msisdn or await self.fetchone("SELECT 1 FROM lines WHERE msisdn = ?", (msisdn,)) is None:
            return False  # a number this operator does not serve: nothing to record

        async def write() -> None:
            await self.execute(
                "INSERT INTO line_signals (msisdn, updated_at) VALUES (?, ?) ON CONFLICT (msisdn) DO NOTHING",
                (msisdn, at),
            )
            params: tuple[Any, ...]
            if kind == SIM_SWAPPED:
                sql, params = "sim_swapped_at = ?", (at,)
            elif kind == ROAMING_CHANGED:
                sql = "roaming = ?, country_code = ?, country_name = ?"
                params = (int(bool(data.get("roaming"))), data.get("country_code"), data.get("country_name"))
            else:
                sql, params = "reachability = ?", (data.get("connectivity"),)
            await self.execute(f"UPDATE line_signals SET {sql}, updated_at = ? WHERE msisdn = ?", (*params, at, msisdn))

        return await self.apply_once(event.get_id(), write)
