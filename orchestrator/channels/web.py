"""The customer web chat: one server-rendered page, a small script, and the turn it posts to.

``GET /chat`` is the page; its script keeps the conversation id and token in the tab's
``sessionStorage`` (so a reload resumes, nothing personal is ever in a URL), sends turns to
``POST /api/conversations/{id}/turns`` and follows the conversation live over the event
stream (see ``events``). Customer text is only ever inserted as text, and the Content Security
Policy forbids inline script besides.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from orchestrator.admission import Admission
from orchestrator.channels._http import SupervisorGetter, authorized_conversation, json_body
from orchestrator.channels.events import TurnHub, run_turn
from orchestrator.disclosure import Disclosure
from shared.errors import InvalidRequest

STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _StaticFiles(StaticFiles):
    """The chat's script and style, with the same headers as the page."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def web_routes(
    supervisor: SupervisorGetter, hub: TurnHub, admission: Admission, disclosure: Disclosure
) -> list[BaseRoute]:
    # Read once at start-up; the page is the same for everyone (all state lives in the browser tab).
    # It opens with the notice that an automated assistant answers (the conversation's first entry).
    greeting = html.escape(disclosure.text("chat"))
    page = (STATIC_DIR / "chat.html").read_text(encoding="utf-8").replace("{{greeting}}", greeting)

    async def chat_page(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    async def to_chat(request: Request) -> RedirectResponse:
        return RedirectResponse("/chat", status_code=307)

    async def post_turn(request: Request) -> JSONResponse:
        admission.refuse_if_full("turn")
        conversation_id = await authorized_conversation(request, supervisor)
        body = await json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise InvalidRequest("'text' must be a string with the customer's message")
        with admission.admit("turn"):
            outcome = await run_turn(supervisor(), hub, conversation_id, text, channel="chat")
        return JSONResponse(outcome.model_dump(mode="json", exclude={"route"}), headers={"Cache-Control": "no-store"})

    return [
        Route("/chat", chat_page, methods=["GET"]),
        Route("/chat/", to_chat, methods=["GET"]),
        Route("/api/conversations/{conversation_id}/turns", post_turn, methods=["POST"]),
        Mount("/chat/static", app=_StaticFiles(directory=STATIC_DIR), name="chat-static"),
    ]
