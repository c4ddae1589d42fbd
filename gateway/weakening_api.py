"""Staff API handlers for weakening a control with four eyes (``weakening``): the request a
weakening change becomes, and the second person's decision on it.

| route | roles | what |
|---|---|---|
| ``GET /governance/changes[?status=active]`` | every staff role | weakened controls, pending and active |
| ``POST /governance/changes/{id}/approve`` | compliance, admin | the second person: it takes effect now |
| ``POST /governance/changes/{id}/reject`` | compliance, admin | it never takes effect |

A weakening request (``PolicyMode`` to log-only on a protective policy, lifting a fraud hold, a
kill switch off) carries ``minutes`` (how long it lasts once approved) and ``reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.weakening import MAX_MINUTES, WeakeningDesk
from shared.errors import InvalidRequest, ServiceUnavailable

if TYPE_CHECKING:
    from gateway.gateway import Gateway
    from gateway.staff_api.common import Staff


class Weaken(BaseModel):
    minutes: int = Field(ge=1, le=MAX_MINUTES)
    reason: str = Field(min_length=1, max_length=300)


def desk_of(gateway: Gateway) -> WeakeningDesk:
    if gateway.weakening is None:
        raise ServiceUnavailable("this gateway has no four-eyes desk yet", hint="try again once it has started")
    return gateway.weakening


def weaken_terms(body: dict[str, Any], what: str) -> Weaken:
    """The duration and reason a weakening needs; a clear 400 when they are missing."""
    if "minutes" not in body or not body.get("reason"):
        raise InvalidRequest(
            f"{what} weakens a control: say for how many minutes (1 to {MAX_MINUTES}) and why",
            hint='send {"minutes": 60, "reason": "…"}; a second compliance person must then approve it',
        )
    try:
        return Weaken.model_validate({"minutes": body["minutes"], "reason": body["reason"]})
    except ValueError:
        raise InvalidRequest(f"minutes must be 1 to {MAX_MINUTES} and the reason 1 to 300 characters") from None


async def request_weakening(
    gateway: Gateway, who: Staff, kind: str, target: str, detail: dict[str, Any], body: dict[str, Any], what: str
) -> JSONResponse:
    terms = weaken_terms(body, what)
    person = who.decides(f"request-{kind}", target, detail, terms.reason)
    change = await desk_of(gateway).request(kind, target, detail, terms.reason, terms.minutes, person)
    answer = {
        "status": "pending",
        "change": change.public(),
        "message": f"{change.describe()} only once a second compliance person approves {change.id}; "
        f"it then lasts {terms.minutes} min",
    }
    return JSONResponse(answer, status_code=202)


async def list_changes(request: Request, who: Staff, gateway: Gateway, desk: Any, body: dict[str, Any]) -> Any:
    status = request.query_params.get("status")
    return {"changes": [c.public() for c in await desk_of(gateway).changes(status)]}


async def approve_change(request: Request, who: Staff, gateway: Gateway, desk: Any, body: dict[str, Any]) -> Any:
    weakening = desk_of(gateway)
    change = await weakening.get(request.path_params["change_id"])
    person = who.decides("approve-weakening", change.id, change.public(), body.get("note"))
    return (await weakening.approve(change.id, person)).public()


async def reject_change(request: Request, who: Staff, gateway: Gateway, desk: Any, body: dict[str, Any]) -> Any:
    weakening = desk_of(gateway)
    change = await weakening.get(request.path_params["change_id"])
    person = who.decides("reject-weakening", change.id, change.public(), body.get("note"))
    return (await weakening.reject(change.id, person)).public()
