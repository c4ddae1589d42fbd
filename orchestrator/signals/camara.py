"""CAMARA subscription notifications (CloudEvents 1.0) and what each one means here.

Accepted types (CAMARA SIM Swap and Device Status subscriptions):
- ``org.camaraproject.sim-swap-subscriptions.v0.swapped`` — data ``{phoneNumber, subscriptionId}``
- ``org.camaraproject.device-roaming-status-subscriptions.v0.roaming-status`` — data
  ``{device: {phoneNumber}, subscriptionId, roaming, countryCode?, countryName?}``;
  also ``.roaming-on`` and ``.roaming-off``
- ``org.camaraproject.device-reachability-status-subscriptions.v0.reachability-data`` /
  ``.reachability-sms`` / ``.reachability-disconnected`` — data ``{device: {phoneNumber}, subscriptionId}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.signals.errors import MalformedSignal, UnknownSignalType
from shared import events
from shared.errors import first_problem

SIM_SWAP = "org.camaraproject.sim-swap-subscriptions.v0."
ROAMING = "org.camaraproject.device-roaming-status-subscriptions.v0."
REACHABILITY = "org.camaraproject.device-reachability-status-subscriptions.v0."

# CAMARA type -> (our event kind, what it says)
TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    SIM_SWAP + "swapped": (events.SIM_SWAPPED, {}),
    ROAMING + "roaming-status": (events.ROAMING_CHANGED, {}),
    ROAMING + "roaming-on": (events.ROAMING_CHANGED, {"roaming": True}),
    ROAMING + "roaming-off": (events.ROAMING_CHANGED, {"roaming": False}),
    REACHABILITY + "reachability-data": (events.CONNECTIVITY_CHANGED, {"connectivity": "CONNECTED_DATA"}),
    REACHABILITY + "reachability-sms": (events.CONNECTIVITY_CHANGED, {"connectivity": "CONNECTED_SMS"}),
    REACHABILITY + "reachability-disconnected": (events.CONNECTIVITY_CHANGED, {"connectivity": "NOT_CONNECTED"}),
}

_E164 = re.compile(r"^\+[1-9]\d{4,14}$")


class _Device(BaseModel):
    model_config = ConfigDict(extra="allow")
    phoneNumber: str | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")
    phoneNumber: str | None = None
    device: _Device | None = None
    subscriptionId: str | None = Field(default=None, max_length=200)
    roaming: bool | None = None
    countryCode: int | None = None
    countryName: list[str] | None = None


class CamaraNotification(BaseModel):
    """The CloudEvent as CAMARA sends it (structured JSON mode)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=500)
    type: str = Field(min_length=1, max_length=200)
    specversion: Literal["1.0"]
    time: datetime
    datacontenttype: str | None = None
    data: _Data


@dataclass(frozen=True)
class NetworkSignal:
    """A checked notification: who it is about and what it says."""

    signal_id: str
    camara_type: str
    kind: str
    msisdn: str
    occurred_at: str
    source: str
    facts: dict[str, Any]

    def event_data(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "camara_type": self.camara_type,
            "msisdn": self.msisdn,
            "occurred_at": self.occurred_at,
            "source": self.source,
            **self.facts,
        }


def parse(body: dict[str, Any]) -> NetworkSignal:
    """Check a notification; raises MalformedSignal or UnknownSignalType saying what is wrong."""
    try:
        note = CamaraNotification.model_validate(body)
    except ValidationError as exc:
        raise MalformedSignal(
            f"not a CAMARA CloudEvent notification ({first_problem(exc)})",
            hint="send id, source, type, specversion 1.0, time and data as CloudEvents JSON",
        ) from None
    known = TYPES.get(note.type)
    if known is None:
        raise UnknownSignalType(
            f"unknown signal type {note.type!r}",
            hint="accepted: CAMARA sim-swap swapped, device roaming-status and reachability notifications",
        )
    kind, implied = known
    phone = note.data.phoneNumber or (note.data.device.phoneNumber if note.data.device else None)
    if not phone or not _E164.match(phone):
        raise MalformedSignal(
            "the notification names no phone number in E.164 form",
            hint="put it in data.phoneNumber (SIM swap) or data.device.phoneNumber (device status)",
        )
    facts = dict(implied)
    if kind == events.ROAMING_CHANGED:
        if "roaming" not in facts:
            if note.data.roaming is None:
                raise MalformedSignal("a roaming-status notification needs data.roaming (true or false)")
            facts["roaming"] = note.data.roaming
        facts["country_code"] = note.data.countryCode
        facts["country_name"] = note.data.countryName[0] if note.data.countryName else None
    occurred = note.time if note.time.tzinfo else note.time.replace(tzinfo=UTC)
    return NetworkSignal(
        signal_id=note.id,
        camara_type=note.type,
        kind=kind,
        msisdn=phone,
        occurred_at=occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        source=note.source,
        facts=facts,
    )
