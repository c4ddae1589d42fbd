"""Refuse an A2A request body the SDK's JSON handling would turn into a 500.

a2a-sdk parses bodies with ``json.loads`` and echoes the request id in its error response: a lone
UTF-16 surrogate in the id then fails to encode and an over-long integer raises past its handler,
both as HTTP 500. This middleware reads the body once (bounded), checks it with the same strict
reader the channels use, and answers a bad one with a JSON-RPC parse error (400), before the SDK
sees it; a good body is replayed to the app unchanged.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import InvalidRequest
from shared.jsonbody import parse_json

MAX_BODY_BYTES = 1_048_576


class StrictJsonBody:
    """Pure ASGI: POST bodies must be well-formed, encodable UTF-8 JSON of bounded size and depth."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, f"the request body is larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                parse_json(body)
            except InvalidRequest as exc:
                await _refuse(send, 400, exc.message)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, why: str) -> None:
    # The JSON-RPC shape; an HTTP+JSON client reads the same "error" object.
    payload = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": why}}
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
