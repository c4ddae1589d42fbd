"""Network tool outputs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Outage(BaseModel):
    id: str
    description: str
    started_at: str


class LineStatus(BaseModel):
    msisdn: str
    sim_status: str
    device_model: str
    connectivity: str = Field(description="normal or degraded")
    roaming: bool
    area: str
    area_outage: Outage | None = None
    last_sim_change: str | None = None


class LineTest(BaseModel):
    result: Literal["pass", "fail"]
    findings: list[str]


class SimSwap(BaseModel):
    """Shaped like the CAMARA SIM Swap API's check and retrieve-date answers."""

    swapped: bool = Field(description="the SIM changed within max_age_hours")
    latest_sim_change: str | None = None
    max_age_hours: int


# CAMARA-shaped answers. Field names follow the CAMARA APIs (camelCase) so a real CAMARA
# connector can return its payloads unchanged.


class SimSwapCheck(BaseModel):
    """CAMARA SIM Swap ``POST /check``."""

    swapped: bool = Field(description="a SIM change happened within maxAge hours")


class SimSwapDate(BaseModel):
    """CAMARA SIM Swap ``POST /retrieve-date``."""

    latestSimChange: str | None = Field(description="when the SIM last changed (RFC 3339), null if never")
    monitoredPeriod: int | None = Field(default=None, description="days monitored when never changed")


class ConnectivityStatus(BaseModel):
    """CAMARA Device Status ``connectivity``."""

    connectivityStatus: Literal["CONNECTED_DATA", "CONNECTED_SMS", "NOT_CONNECTED"]
    lastStatusTime: str | None = None


class RoamingStatus(BaseModel):
    """CAMARA Device Status ``roaming``."""

    roaming: bool
    countryCode: int | None = None
    countryName: list[str] = []
    lastStatusTime: str | None = None


class QosSession(BaseModel):
    """CAMARA Quality-on-Demand session."""

    sessionId: str
    qosProfile: str
    qosStatus: Literal["REQUESTED", "AVAILABLE", "UNAVAILABLE"]
    startedAt: str
    expiresAt: str
    duration: int = Field(description="seconds")


class SimBlock(BaseModel):
    """A SIM barred from the network: no calls, texts or data until a replacement is active."""

    msisdn: str
    sim_status: Literal["blocked"]
    blocked_at: str
    reason: str


class SimOrder(BaseModel):
    """A replacement SIM on its way to the address on the account; the number stays the same."""

    order_id: str
    msisdn: str
    status: Literal["dispatched"]
    expected_delivery: str = Field(description="date the SIM should arrive (YYYY-MM-DD)")
