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
