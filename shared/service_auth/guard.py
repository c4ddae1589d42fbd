"""The door of every service: an ASGI middleware that lets in only callers with a token for it.

A request without a valid bearer token for the service's audience gets HTTP 401 with a JSON
error (``{"code": "unauthenticated", "message": ..., "hint": ...}``) and a ``WWW-Authenticate``
header, before the protocol layer (A2A, MCP) reads a byte of it. Every refusal is logged here
and handed to ``on_refused`` (the gateway's audit log, see ``RefusalReporter``). An admitted
caller's claims travel in the ASGI scope (``CALLER_SCOPE_KEY``) and in ``current_caller``
for the request's tasks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from contextvars import ContextVar
from dataclasses import asdict, dataclass

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import ServiceUnavailable, SwitchboardError, Unauthenticated
from shared.service_auth.audiences import AUDIT
from shared.service_auth.client import TokenSource
from shared.service_auth.verifier import ServiceClaims, TokenVerifier, refused, unverified_subject
from shared.tls import client_tls

logger = logging.getLogger("switchboard.service_auth")

CALLER_SCOPE_KEY = "switchboard.caller"
REFUSALS_PATH = "/audit/refusals"

current_caller: ContextVar[ServiceClaims | None] = ContextVar("switchboard_caller", default=None)
"""The verified caller of the request being served (None outside one)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A caller turned away: where, who it claimed to be (unverified), from where, and why."""

    service: str
    caller: str
    reason: str
    path: str
    client: str


OnRefused = Callable[[Refusal], Awaitable[None]]


def bearer_token(scope: Scope) -> str:
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    scheme, _, token = header.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def refusal_of(scope: Scope, service: str, token: str, reason: str) -> Refusal:
    client = scope.get("client")
    claimed = unverified_subject(token) if token else None
    return Refusal(
        service=service,
        caller=f"{claimed} (unverified)" if claimed else "unknown",
        reason=reason,
        path=str(scope.get("path", ""))[:200],
        client=f"{client[0]}" if client else "",
    )


async def report_refusal(on_refused: OnRefused | None, refusal: Refusal) -> None:
    """Log a refusal and hand it to ``on_refused``; a failure to record it never reaches the caller."""
    logger.warning("refused %s at %s%s: %s", refusal.caller, refusal.service, refusal.path, refusal.reason)
    if on_refused is None:
        return
    try:
        await on_refused(refusal)
    except Exception:
        logger.exception("could not record the refusal of %s", refusal.caller)


async def send_error(send: Send, error: SwitchboardError, challenge: str | None = None) -> None:
    body = json.dumps(error.to_dict()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge.encode()))
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def challenge_for(error: SwitchboardError, resource_metadata: str | None = None) -> str:
    parts = ['Bearer error="invalid_token"', f'error_description="{error.message.replace(chr(34), chr(39))}"']
    if resource_metadata:
        parts.append(f'resource_metadata="{resource_metadata}"')
    return ", ".join(parts)


class RequireToken:
    """Admit only callers whose token names ``audience`` (and, if given, one of ``subjects``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        audience: str,
        subjects: Collection[str] | None = None,
        open_paths: Collection[str] = ("/healthz",),
        on_refused: OnRefused | None = None,
    ) -> None:
        self.app = app
        self._verifier = verifier
        self._audience = audience
        self._subjects = frozenset(subjects) if subjects is not None else None
        self._open = frozenset(open_paths)
        self._on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        try:
            if not token:
                raise refused("no bearer token: this service admits only authenticated callers")
            claims = await self._verifier.verify(token, self._audience)
            if self._subjects is not None and claims.sub not in self._subjects:
                raise refused(f"client {claims.sub!r} may not call {self._audience!r}")
        except Unauthenticated as error:
            await report_refusal(self._on_refused, refusal_of(scope, self._audience, token, error.message))
            await send_error(send, error, challenge_for(error))
            return
        except ServiceUnavailable as error:  # the key set cannot be read right now: not the caller's fault
            await send_error(send, error)
            return
        reset = current_caller.set(claims)
        try:
            await self.app({**scope, CALLER_SCOPE_KEY: claims}, receive, send)
        finally:
            current_caller.reset(reset)


class RefusalReporter:
    """Hands refusals to the gateway's audit log (``POST {gateway}/audit/refusals``, audience ``audit``).

    Awaited before the 401 goes out, bounded by ``timeout_seconds``: a refusal costs the
    refused caller the wait, never a legitimate one. If the gateway cannot be reached the
    refusal stays in this service's log.
    """

    def __init__(self, gateway_url: str, tokens: TokenSource, *, timeout_seconds: float = 2.0) -> None:
        self._url = gateway_url.rstrip("/") + REFUSALS_PATH
        self._tokens = tokens
        self._timeout = timeout_seconds

    async def __call__(self, refusal: Refusal) -> None:
        try:
            async with (
                asyncio.timeout(self._timeout),
                httpx.AsyncClient(timeout=self._timeout, verify=client_tls()) as http,
            ):
                token = await self._tokens.token(AUDIT)
                response = await http.post(
                    self._url, json=asdict(refusal), headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()
        except Exception as exc:
            logger.warning("the gateway did not take the refusal of %s (%s)", refusal.caller, exc)
