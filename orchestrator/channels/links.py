"""Web -> phone continuation: a short-lived numeric code that attaches a call to a web conversation.

Caller ID can be spoofed, so it never proves who is calling. What does: the code, shown only
inside the web chat (which holds the conversation token). Codes are 8 digits (100 million
possibilities against a handful live at once), single use, valid ``link_code_ttl_seconds``,
stored hashed, and a call may try three (counted before the code is looked at); the call
then carries on in the same conversation, with its auth context, so a verified customer is
not asked to verify again while it is valid.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orchestrator.channels._http import SupervisorGetter, authorized_conversation
from orchestrator.channels.settings import ChannelSettings
from orchestrator.channels.store import ChannelStorage

CODE_DIGITS = 8
MAX_ATTEMPTS_PER_CALL = 3
MAX_ATTEMPTS_PER_NUMBER_HOUR = 10
"""Link-code tries from one calling number across its calls in an hour (caller ID is weak, but it is friction)."""
_CODE = re.compile(rf"(?<!\d)\d{{{CODE_DIGITS}}}(?!\d)")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def find_link_code(text: str) -> str | None:
    """An 8-digit code in what the caller keyed or said (speech already normalised to digits)."""
    match = _CODE.search(text or "")
    return match.group(0) if match else None


def link_routes(supervisor: SupervisorGetter, store: ChannelStorage, settings: ChannelSettings) -> list[Route]:
    async def create_link(request: Request) -> JSONResponse:
        conversation_id = await authorized_conversation(request, supervisor)
        code = new_code()
        await store.put_link_code(code, conversation_id, settings.link_code_ttl_seconds)
        return JSONResponse(
            {
                "code": code,
                "expires_in": settings.link_code_ttl_seconds,
                "phone_number": settings.phone_number,
            },
            status_code=201,
            headers={"Cache-Control": "no-store"},
        )

    return [Route("/api/conversations/{conversation_id}/phone-link", create_link, methods=["POST"])]
