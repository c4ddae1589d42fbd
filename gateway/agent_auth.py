"""ASGI middleware in front of the MCP endpoint: body limit and agent authentication.

Runs before the MCP SDK sees a byte, so an unauthenticated or oversized request never
reaches JSON-RPC handling. A caller proves who it is with a token from the token service
whose audience is the gateway and whose client is one of the deployment's agents; the
gateway is an OAuth 2.1 resource server in the MCP authorization spec's sense, so a refusal
is a 401 whose ``WWW-Authenticate`` names the protected-resource metadata (RFC 9728).
The authenticated agent's name travels in the ASGI scope (``AGENT_SCOPE_KEY``) to the tool
handlers. Every refusal is audited, naming the caller the token claims (unverified).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, ServiceUnavailable, SwitchboardError, Unauthenticated
from shared.service_auth.audiences import GATEWAY
from shared.service_auth.guard import bearer_token, challenge_for, refusal_of
from shared.service_auth.verifier import TokenVerifier, refused

logger = logging.getLogger(__name__)

AGENT_SCOPE_KEY = "switchboard.agent"
MAX_BODY_BYTES = 256 * 1024

UnauthenticatedCallHook = Callable[[str, Any, Any, str, str], Awaitable[None]]
"""(tool, arguments, _meta, refused caller, why): audit a tools/call refused for its token."""
RejectedRequestHook = Callable[[str, str, str], Awaitable[None]]
"""(agent or "unknown", tool name or "", reason): audit a request refused before MCP handling."""


async def _send_error(send: Send, error: SwitchboardError, headers: Mapping[str, str] | None = None) -> None:
    body = json.dumps(error.to_dict()).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _tool_calls(body: bytes) -> list[dict[str, Any]]:
    """The params of every tools/call in a JSON-RPC body (single or batch); [] if unreadable."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting, huge numbers: malformed
        return []
    messages = parsed if isinstance(parsed, list) else [parsed]
    return [
        params if isinstance(params := m.get("params"), dict) else {}
        for m in messages
        if isinstance(m, dict) and m.get("method") == "tools/call"
    ]


def _malformed(body: bytes) -> tuple[str, str] | None:
    """(tool, what is wrong) for a body the MCP layer will refuse as malformed, else None."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting, huge numbers: malformed
        return "", "the request body is not valid JSON"
    for message in parsed if isinstance(parsed, list) else [parsed]:
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            continue
        params = message.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("name"), str):
            return "", "a tools/call without a tool name"
        if not isinstance(params.get("arguments", {}), dict):
            return params["name"][:200], "tool arguments must be a JSON object"
    return None


class AgentAuthMiddleware:
    """Authenticates agents by service token; paths in ``open_paths`` pass untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        agents: frozenset[str],
        on_unauthenticated_call: UnauthenticatedCallHook,
        resource_metadata: str,
        open_paths: frozenset[str] = frozenset({"/healthz"}),
        open_prefixes: tuple[str, ...] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
        on_rejected: RejectedRequestHook | None = None,
    ) -> None:
        self.app = app
        # Paths under these prefixes authenticate their own callers (the staff API).
        self._open_prefixes = open_prefixes
        self._verifier = verifier
        self._agents = agents
        self._resource_metadata = resource_metadata
        self._on_unauthenticated_call = on_unauthenticated_call
        self._open_paths = open_paths
        self._max = max_body_bytes
        self._on_rejected = on_rejected

    async def _rejected(self, agent: str | None, tool: str, reason: str) -> None:
        if self._on_rejected is None:
            return
        try:
            await self._on_rejected(agent or "unknown", tool, reason)
        except Exception:
            logger.exception("could not audit a refused request")

    async def _agent(self, scope: Scope) -> tuple[str | None, SwitchboardError | None]:
        """(the agent, None) for a valid token, else (None, why it is refused)."""
        token = bearer_token(scope)
        if not token:
            return None, refused("no bearer token: the gateway admits only agents with a token for it")
        try:
            claims = await self._verifier.verify(token, GATEWAY)
        except (Unauthenticated, ServiceUnavailable) as exc:  # the latter: the key set cannot be read now
            return None, exc
        if claims.sub not in self._agents:
            return None, refused(f"client {claims.sub!r} is not an agent of this deployment")
        return claims.sub, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self._open_paths
            or scope["path"].startswith(self._open_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        too_large = PayloadTooLarge(
            f"the request body is larger than {self._max // 1024} KiB", hint="send smaller tool arguments"
        )
        agent, why = await self._agent(scope)
        if declared is not None and declared.isdigit() and int(declared) > self._max:
            await self._rejected(agent, "", f"refused before decision: {too_large.message}")
            await _send_error(send, too_large)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self._max:
                await self._rejected(agent, "", f"refused before decision: {too_large.message}")
                await _send_error(send, too_large)
                return
            if not message.get("more_body", False):
                break

        if agent is None:
            assert why is not None
            refusal = refusal_of(scope, GATEWAY, bearer_token(scope), why.message)
            calls = _tool_calls(bytes(body))
            for params in calls:
                try:
                    await self._on_unauthenticated_call(
                        params.get("name", ""),
                        params.get("arguments"),
                        params.get("_meta"),
                        refusal.caller,
                        why.message,
                    )
                except Exception:
                    logger.exception("could not audit an unauthenticated tools/call")
            if not calls:
                await self._rejected(refusal.caller, "", f"refused before decision: {why.message}")
            await _send_error(send, why, {"www-authenticate": challenge_for(why, self._resource_metadata)})
            return

        if scope.get("method") == "POST" and (problem := _malformed(bytes(body))) is not None:
            # The MCP layer answers the caller with its own error; the refusal is audited here.
            await self._rejected(agent, problem[0], f"refused before decision: {problem[1]}")

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app({**scope, AGENT_SCOPE_KEY: agent}, replay, send)
