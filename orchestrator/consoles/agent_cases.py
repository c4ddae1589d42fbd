"""Who holds an escalated case, as the human-agent console changes it (``orchestrator.cases``).

| route | who | what |
|---|---|---|
| ``POST {case}/take-over`` | agent, supervisor, admin | take the case on a lease; the AI steps aside |
| ``POST {case}/lease`` | the holder | "still working on it": renews the lease (the page sends it on activity) |
| ``POST {case}/replies`` | the holder | ``{text}``: reaches the customer live; the first one ends the wait |
| ``POST {case}/hand-back`` | the holder | ``{note?}``: back to the AI, which reads the note and the replies |
| ``POST {case}/transfer`` | the holder | ``{to, note?}``: to a named colleague who is signed in |
| ``POST {case}/reassign`` | supervisor, admin | ``{to, note?}``: any escalated case to a named colleague |
| ``POST {case}/release`` | supervisor, admin | ``{note?}``: off its holder, back to the queue with its waiting time |

``{case}`` is ``/api/console/escalations/{conversation_id}``. Each change is logged in the case
with the acting person's name (the packet's ``case_log``), and each decision (not a lease
renewal or a reply, which the transcript holds) is also a chained audit record at the gateway,
made with the person's own token: their name, note and the digest of the transcript they saw.
A refused change (409) names who holds the case and what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from orchestrator.cases import CaseDesk
from orchestrator.cases.desk import SUPERVISOR_ROLES, TAKEOVER_ROLES
from orchestrator.channels._http import json_body
from orchestrator.consoles import agent_packet
from orchestrator.consoles.auth import StaffSession, require_staff
from orchestrator.consoles.staff_gateway import StaffGateway
from orchestrator.conversations import ConversationState
from orchestrator.supervisor import Supervisor
from shared.audit import digest
from shared.errors import InvalidRequest, SwitchboardError

_NO_STORE = {"Cache-Control": "no-store"}


def desk_of(supervisor: Supervisor) -> CaseDesk:
    if not isinstance(supervisor.cases, CaseDesk):
        raise SwitchboardError("the console is served without a case desk; build the app with build_orchestrator_app")
    return supervisor.cases


def _held(state: ConversationState) -> JSONResponse:
    human = state.human.model_dump(mode="json") if state.human else None
    return JSONResponse(
        {"conversation_id": state.conversation_id, "status": state.status, "human": human}, headers=_NO_STORE
    )


def _text(body: dict[str, Any], field: str, *, required: bool) -> str:
    value = body.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"'{field}' must be a string")
    return value


def agent_case_routes(supervisor: Callable[[], Supervisor], gateway: StaffGateway | None = None) -> list[BaseRoute]:
    async def case(request: Request, roles: frozenset[str]) -> tuple[StaffSession, str, CaseDesk, ConversationState]:
        session = await require_staff(request, roles)
        conversation_id = request.path_params["conversation_id"]
        state = await agent_packet.load_case(supervisor(), conversation_id)
        return session, conversation_id, desk_of(supervisor()), state

    async def chained(
        session: StaffSession, action: str, before: ConversationState, note: str = "", to: str = ""
    ) -> None:
        """The person's decision as a chained record at the gateway, under their own token.

        Recorded once the change is made (a refused change is not a decision); if the gateway
        cannot record it, the person is told so (503) and the change stands in the case log.
        """
        if gateway is None:
            return
        transcript = await supervisor().store.transcript(before.conversation_id)
        seen = digest([entry.model_dump(mode="json") for entry in transcript])
        body: dict[str, Any] = {
            "action": action,
            "conversation_id": before.conversation_id,
            "customer_id": before.customer.customer_id if before.customer else None,
            "note": note or None,
            "to": to or None,
            "seen": seen,
        }
        await gateway.call(session, "POST", "/governance/oversight", json=body)

    async def take_over(request: Request) -> JSONResponse:
        session, conversation_id, desk, before = await case(request, TAKEOVER_ROLES)
        held = await desk.take_over(conversation_id, session.name)
        if before.human is None or before.human.name != session.name:  # taking one's own case again only renews
            await chained(session, "take-over", before)
        return _held(held)

    async def lease(request: Request) -> JSONResponse:
        session, conversation_id, desk, _ = await case(request, TAKEOVER_ROLES)
        return _held(await desk.renew(conversation_id, session.name))

    async def reply(request: Request) -> JSONResponse:
        session, conversation_id, desk, _ = await case(request, TAKEOVER_ROLES)
        entry = await desk.reply(conversation_id, session.name, _text(await json_body(request), "text", required=True))
        return JSONResponse(agent_packet.line(entry).model_dump(mode="json"), status_code=201, headers=_NO_STORE)

    async def hand_back(request: Request) -> JSONResponse:
        session, conversation_id, desk, before = await case(request, TAKEOVER_ROLES)
        note = _text(await json_body(request), "note", required=False)
        held = await desk.hand_back(conversation_id, session.name, note)
        await chained(session, "hand-back", before, note)
        return _held(held)

    async def transfer(request: Request) -> JSONResponse:
        session, conversation_id, desk, before = await case(request, TAKEOVER_ROLES)
        body = await json_body(request)
        to, note = _text(body, "to", required=True), _text(body, "note", required=False)
        held = await desk.transfer(conversation_id, session.name, to.strip(), note)
        await chained(session, "transfer", before, note, to.strip())
        return _held(held)

    async def reassign(request: Request) -> JSONResponse:
        session, conversation_id, desk, before = await case(request, SUPERVISOR_ROLES)
        body = await json_body(request)
        to, note = _text(body, "to", required=True), _text(body, "note", required=False)
        held = await desk.reassign(conversation_id, session.name, to.strip(), note)
        await chained(session, "reassign", before, note, to.strip())
        return _held(held)

    async def release(request: Request) -> JSONResponse:
        session, conversation_id, desk, before = await case(request, SUPERVISOR_ROLES)
        note = _text(await json_body(request), "note", required=False)
        held = await desk.release(conversation_id, session.name, note)
        await chained(session, "release", before, note)
        return _held(held)

    base = "/api/console/escalations/{conversation_id}"
    table: list[tuple[str, Any]] = [
        ("take-over", take_over),
        ("lease", lease),
        ("replies", reply),
        ("hand-back", hand_back),
        ("transfer", transfer),
        ("reassign", reassign),
        ("release", release),
    ]
    return [Route(f"{base}/{path}", endpoint, methods=["POST"]) for path, endpoint in table]
