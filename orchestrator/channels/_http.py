"""Small request helpers the channel routes share: bounded bodies and the conversation token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from orchestrator.supervisor import Supervisor
from shared.errors import InvalidRequest, PayloadTooLarge, Unauthenticated
from shared.jsonbody import parse_json_object

MAX_BODY_BYTES = 64 * 1024

SupervisorGetter = Callable[[], Supervisor]


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is over {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is over {limit} bytes")
    return body


async def json_body(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    if not body:
        return {}
    return parse_json_object(body, hint='send {"text": "..."}')


async def form_body(request: Request) -> list[tuple[str, str]]:
    """Every form field in order, blanks kept: webhook signatures are computed over all of them."""
    body = await read_body(request)
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the form body is not UTF-8") from exc


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "this conversation needs its token", hint="send 'Authorization: Bearer <token>' from conversation start"
        )
    return token.strip()


async def authorized_conversation(request: Request, supervisor: SupervisorGetter) -> str:
    """The path's conversation id, once the caller proved it holds that conversation's token."""
    conversation_id: str = request.path_params["conversation_id"]
    await supervisor().store.authorize(conversation_id, bearer(request))
    return conversation_id
