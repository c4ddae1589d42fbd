"""The compliance console: authorization traces, chain status, explain, export, policy modes.

``GET /console/compliance`` is the page; its script reads JSON under ``/api/console/compliance``.
Every endpoint checks the session's role here *and* calls the governance gateway with the
person's own staff token, so the gateway enforces the role again and its audit log names the
person (an export, a policy-mode change). Nothing is cached in the orchestrator: what the page
shows is what the gateway's log says at that moment.

| route | gateway call |
|---|---|
| ``GET /api/console/compliance/traces?…`` | ``GET /governance/audit/traces`` |
| ``GET /api/console/compliance/verify`` | ``GET /governance/audit/verify`` |
| ``GET /api/console/compliance/explain/{record_id}`` | ``GET /governance/audit/records/{id}/explain`` |
| ``GET /api/console/compliance/export?format=csv|json&…`` | ``GET /governance/audit/export`` (streamed through) |
| ``GET /api/console/compliance/policies`` | ``GET /governance/policies`` |
| ``POST /api/console/compliance/policies/{policy_id}/mode`` | ``POST /governance/policies/{id}/mode`` |
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from orchestrator.consoles.auth import SECURITY_HEADERS, STATIC_DIR, StaffGateway, page_guard, require_staff
from shared.errors import InvalidRequest

COMPLIANCE_ROLES = frozenset({"compliance", "admin"})
# Passed through to the gateway, which validates each value and answers 400 naming a bad one.
FILTER_KEYS = ("agent", "decision", "customer", "conversation", "tool", "since", "until")
_RECORD_ID = re.compile(r"^[0-9a-f]{32}$")
_POLICY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
_NO_STORE = {"Cache-Control": "no-store"}


class ModeChange(BaseModel):
    mode: str = Field(pattern="^(enforce|log-only)$")
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    reason: str | None = Field(default=None, max_length=300)
    """A protective policy to log-only weakens a control: how long, and why (a second person approves)."""


_CHANGE_ID = re.compile(r"CHG-[0-9A-F]{12}")


def _params(request: Request, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The filter fields of the query, unknown ones refused (a typo must not widen an export)."""
    allowed = (*FILTER_KEYS, *extra)
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0]!r}", hint=f"use any of {', '.join(allowed)}")
    return {k: v for k, v in request.query_params.items() if v.strip()}


def compliance_routes(supervisor: Callable[[], Any], config: object, gateway: StaffGateway) -> list[BaseRoute]:
    # Read once at start-up; per request only the person's name, role and CSRF token go in.
    template = (STATIC_DIR / "compliance.html").read_text(encoding="utf-8")

    async def page(request: Request) -> Response:
        session = await page_guard(request, COMPLIANCE_ROLES)
        if isinstance(session, Response):
            return session
        body = (
            template.replace("{{name}}", html.escape(session.name))
            .replace("{{role}}", html.escape(session.role))
            .replace("{{csrf}}", html.escape(session.csrf_token))
        )
        return HTMLResponse(body, headers=SECURITY_HEADERS)

    async def traces(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        params = _params(request, ("before", "limit"))
        answer = await gateway.call(session, "GET", "/governance/audit/traces", params=params)
        return JSONResponse(answer.json(), headers=_NO_STORE)

    async def verify(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        answer = await gateway.call(session, "GET", "/governance/audit/verify")
        return JSONResponse(answer.json(), headers=_NO_STORE)

    async def explain(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        record_id = request.path_params["record_id"]
        if not _RECORD_ID.match(record_id):
            raise InvalidRequest("an audit record id is 32 lowercase hex characters")
        answer = await gateway.call(session, "GET", f"/governance/audit/records/{record_id}/explain")
        return JSONResponse(answer.json(), headers=_NO_STORE)

    async def export(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        params = _params(request, ("format",))
        upstream = await gateway.stream(session, "GET", "/governance/audit/export", params=params)
        headers = {k: upstream.headers[k] for k in ("content-type", "content-disposition") if k in upstream.headers}
        headers.update({"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_bytes():
                    yield chunk
            finally:  # also when the browser goes away mid-download
                await upstream.aclose()

        return StreamingResponse(relay(), headers=headers)

    async def policies(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        answer = await gateway.call(session, "GET", "/governance/policies")
        return JSONResponse(answer.json(), headers=_NO_STORE)

    async def set_mode(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        policy_id = request.path_params["policy_id"]
        if not _POLICY_ID.match(policy_id):
            raise InvalidRequest("that is not a policy id", hint="GET /api/console/compliance/policies lists them")
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > 1024:
            raise InvalidRequest('send a small JSON body: {"mode": "enforce"} or {"mode": "log-only"}')
        try:
            change = ModeChange.model_validate_json(await request.body() or b"{}")
        except ValidationError:
            raise InvalidRequest('send {"mode": "enforce"} or {"mode": "log-only"}') from None
        answer = await gateway.call(
            session,
            "POST",
            f"/governance/policies/{quote(policy_id, safe='')}/mode",
            json=change.model_dump(exclude_none=True),
        )
        return JSONResponse(answer.json(), status_code=answer.status_code, headers=_NO_STORE)

    async def changes(request: Request) -> Response:
        session = await require_staff(request, COMPLIANCE_ROLES)
        answer = await gateway.call(session, "GET", "/governance/changes")
        return JSONResponse(answer.json(), headers=_NO_STORE)

    def decide_change(verb: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            session = await require_staff(request, COMPLIANCE_ROLES)
            change_id = request.path_params["change_id"]
            if not _CHANGE_ID.fullmatch(change_id):
                raise InvalidRequest("that is not a control change id", hint="use the id shown with the change")
            # As the signed-in person: the gateway refuses the requester approving their own change.
            answer = await gateway.call(session, "POST", f"/governance/changes/{change_id}/{verb}", json={})
            return JSONResponse(answer.json(), headers=_NO_STORE)

        return run

    p = "/api/console/compliance"
    return [
        Route("/console/compliance", page, methods=["GET"]),
        Route(f"{p}/traces", traces, methods=["GET"]),
        Route(f"{p}/verify", verify, methods=["GET"]),
        Route(f"{p}/explain/{{record_id}}", explain, methods=["GET"]),
        Route(f"{p}/export", export, methods=["GET"]),
        Route(f"{p}/policies", policies, methods=["GET"]),
        Route(f"{p}/policies/{{policy_id}}/mode", set_mode, methods=["POST"]),
        Route(f"{p}/changes", changes, methods=["GET"]),
        Route(f"{p}/changes/{{change_id}}/approve", decide_change("approve"), methods=["POST"]),
        Route(f"{p}/changes/{{change_id}}/reject", decide_change("reject"), methods=["POST"]),
    ]


__all__ = ["COMPLIANCE_ROLES", "compliance_routes"]
