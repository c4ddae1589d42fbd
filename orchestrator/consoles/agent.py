"""The human-agent console: the escalation queue, hydrated cases, takeover, live replies, approvals.

| route | who | what |
|---|---|---|
| ``GET /console/agent`` | agent, supervisor, approver, admin | the page (``static/agent.*``) |
| ``GET /api/console/escalations`` | same | the queue, most urgent first, with waiting times |
| ``GET /api/console/escalations/{id}`` | same | the hydrated packet (``shared.escalation``) |
| ``GET /api/console/escalations/{id}/transcript?after=`` | same | new transcript lines (the live view) |
| ``POST /api/console/escalations/{id}/take-over``, ``replies`` … | ``agent_cases.py`` | who holds the case |
| ``GET /api/console/approvals`` | agent, approver, admin | every pending approval, exact arguments and reason |
| ``POST /api/console/approvals/{id}/approve`` / ``reject`` | same | ``{note}``: decided at the gateway as this person |

Roles are checked here on the server (a compliance session is refused), the gateway checks
them again for approvals, and every POST needs the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orchestrator.channels._http import json_body
from orchestrator.consoles import agent_packet
from orchestrator.consoles.agent_cases import agent_case_routes, desk_of
from orchestrator.consoles.auth import SECURITY_HEADERS, STATIC_DIR, StaffGateway, page_guard, require_staff
from orchestrator.supervisor import Supervisor
from shared.errors import InvalidRequest

READ_ROLES = frozenset({"agent", "supervisor", "approver", "admin"})
DECIDE_ROLES = frozenset({"agent", "supervisor", "approver", "admin"})
MAX_NOTE_CHARS = 500
_NO_STORE = {"Cache-Control": "no-store"}
# Approval ids go into the gateway's URL path: only their own alphabet may pass.
_APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _json(model: Any) -> JSONResponse:
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    return JSONResponse(data, headers=_NO_STORE)


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "0")
    if not raw.isdigit():
        raise InvalidRequest("'after' must be the last transcript seq the console has (a whole number)")
    return int(raw)


def agent_console_routes(
    supervisor: Callable[[], Supervisor], config: object, gateway: StaffGateway
) -> list[BaseRoute]:
    # Read once at start-up: the page is the same for everyone; all case data comes from the JSON API.
    page = (STATIC_DIR / "agent.html").read_text(encoding="utf-8")

    async def console_page(request: Request) -> Response:
        session = await page_guard(request, READ_ROLES)
        if isinstance(session, Response):
            return session
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    async def escalations(request: Request) -> JSONResponse:
        await require_staff(request, READ_ROLES)
        return _json(await desk_of(supervisor()).queue())

    async def escalation(request: Request) -> JSONResponse:
        session = await require_staff(request, READ_ROLES)
        conversation_id = request.path_params["conversation_id"]
        return _json(await agent_packet.packet(supervisor(), gateway, session, conversation_id))

    async def transcript(request: Request) -> JSONResponse:
        await require_staff(request, READ_ROLES)
        conversation_id = request.path_params["conversation_id"]
        after = _after(request)
        sup = supervisor()
        state = await agent_packet.load_case(sup, conversation_id)
        lines = [agent_packet.line(e) for e in await sup.store.transcript(conversation_id) if e.seq > after]
        return _json(
            {
                "status": state.status,
                "human": state.human.model_dump(mode="json") if state.human else None,
                "notices": [n.model_dump(mode="json") for n in state.notices],
                "lines": [line.model_dump(mode="json") for line in lines],
            }
        )

    async def approvals(request: Request) -> JSONResponse:
        session = await require_staff(request, DECIDE_ROLES)
        pending = await agent_packet.pending_approvals(gateway, session)
        return _json({"approvals": [a.model_dump(mode="json") for a in pending]})

    async def weakened(request: Request) -> JSONResponse:
        """Controls weakened right now (four eyes, with an expiry): every console shows them while they last."""
        session = await require_staff(request, READ_ROLES)
        answer = await gateway.call(session, "GET", "/governance/changes", params={"status": "active"})
        return JSONResponse(answer.json(), headers=_NO_STORE)

    def decide(verb: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> JSONResponse:
            session = await require_staff(request, DECIDE_ROLES)
            approval_id = request.path_params["approval_id"]
            if not _APPROVAL_ID.fullmatch(approval_id):
                raise InvalidRequest("that is not an approval id", hint="use the id shown with the approval")
            body = await json_body(request)
            note, seen = body.get("note"), body.get("seen")
            if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
                raise InvalidRequest(f"'note' must be text of at most {MAX_NOTE_CHARS} characters")
            if seen is not None and (not isinstance(seen, str) or not _DIGEST.fullmatch(seen)):
                raise InvalidRequest("'seen' must be the approval's view_digest as shown")
            # As the signed-in person: the gateway records them as the approver and checks their role,
            # and chains the digest of what their screen showed (refusing if it changed meanwhile).
            response = await gateway.call(
                session,
                "POST",
                f"/governance/approvals/{approval_id}/{verb}",
                json={"note": note or None, "seen": seen},
            )
            return JSONResponse(response.json(), headers=_NO_STORE)

        return run

    base = "/api/console/escalations/{conversation_id}"
    return [
        Route("/console/agent", console_page, methods=["GET"]),
        Route("/api/console/escalations", escalations, methods=["GET"]),
        Route(base, escalation, methods=["GET"]),
        Route(f"{base}/transcript", transcript, methods=["GET"]),
        *agent_case_routes(supervisor, gateway),
        Route("/api/console/approvals", approvals, methods=["GET"]),
        Route("/api/console/weakened", weakened, methods=["GET"]),
        Route("/api/console/approvals/{approval_id}/approve", decide("approve"), methods=["POST"]),
        Route("/api/console/approvals/{approval_id}/reject", decide("reject"), methods=["POST"]),
    ]
