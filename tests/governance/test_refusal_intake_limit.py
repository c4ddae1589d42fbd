"""The gateway's refusal intake takes a bounded rate of reports, per address and per reporting service."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette

from gateway.resource_auth import refusal_routes
from shared.rate_limit import Limit
from shared.service_auth import REFUSALS_PATH, audiences
from tests.service_tokens import TokenAuthority

AUTHORITY = TokenAuthority.temporary()
REPORT = {"service": "agent:billing", "caller": "mallory (unverified)", "reason": "the token has expired"}


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@dataclass
class AuditLog:
    """Where the intake writes: the records it was asked to make."""

    refused: list[tuple[str, str, str]] = field(default_factory=list)

    async def record_refused(self, caller: str, name: str, reason: str) -> None:
        self.refused.append((caller, name, reason))


def _intake(log: AuditLog, clock: Clock, per_address: Limit, per_reporter: Limit) -> httpx.AsyncClient:
    routes = refusal_routes(
        lambda: log,  # type: ignore[arg-type, return-value]
        AUTHORITY.verifier(),
        per_address=per_address,
        per_reporter=per_reporter,
        clock=clock,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=Starlette(routes=routes)), base_url="http://gateway")


def _as(reporter: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint(audiences.AUDIT, sub=reporter)}"}


async def test_a_reporter_over_its_rate_gets_429_and_others_still_report() -> None:
    log, clock = AuditLog(), Clock()
    async with _intake(log, clock, Limit(100, 100.0), Limit(2, 0.5)) as http:
        taken = [await http.post(REFUSALS_PATH, json=REPORT, headers=_as("billing")) for _ in range(2)]
        limited = await http.post(REFUSALS_PATH, json=REPORT, headers=_as("billing"))
        other = await http.post(REFUSALS_PATH, json=REPORT, headers=_as("payment"))
        clock.now += 2.0
        again = await http.post(REFUSALS_PATH, json=REPORT, headers=_as("billing"))
    assert [r.status_code for r in taken] == [201, 201]
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["code"] == "rate_limited" and "billing" in limited.json()["message"]
    assert (other.status_code, again.status_code) == (201, 201)
    assert len(log.refused) == 4  # the limited report wrote nothing


async def test_one_address_is_limited_before_its_token_is_checked() -> None:
    log, clock = AuditLog(), Clock()
    async with _intake(log, clock, Limit(2, 1.0), Limit(100, 100.0)) as http:
        anonymous = [await http.post(REFUSALS_PATH, json=REPORT) for _ in range(2)]
        limited = await http.post(REFUSALS_PATH, json=REPORT, headers=_as("billing"))
    assert [r.status_code for r in anonymous] == [401, 401]
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert log.refused == []
