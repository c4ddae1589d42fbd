"""The token service as an ASGI app: OAuth 2.0 client credentials, the JWKS, and its metadata.

POST /oauth/token                            grant_type=client_credentials, audience=<service>
                                             (client_secret_basic or client_secret_post)
GET  /.well-known/jwks.json                  the public keys (Cache-Control: short)
GET  /.well-known/oauth-authorization-server RFC 8414 metadata
GET  /healthz

Errors follow RFC 6749 section 5.2: ``invalid_client`` (401), ``unsupported_grant_type``,
``invalid_request`` and ``invalid_target`` (RFC 8707, an audience the client may not have).

The token endpoint is rate limited twice: per address on every request (so secrets cannot be
guessed at speed), and per client on the tokens it is issued (a leaked secret cannot mint
without bound, and nobody but the secret's holder can use up a client's allowance). Over either
limit: 429 ``temporarily_unavailable`` with ``Retry-After``. Clients cache tokens for most of their
lifetime, so a well-behaved deployment asks a few times a minute.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.rate_limit import Limit, RateLimiter
from shared.service_auth.audiences import JWKS_PATH, METADATA_PATH, TOKEN_PATH
from token_service.clients import Client, ClientRegistry
from token_service.keys import KeyRing

logger = logging.getLogger("switchboard.tokens")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PER_ADDRESS = Limit(burst=120, per_second=20.0)
"""Every request from one address; the embedded default's services all ask from loopback at start-up."""
PER_CLIENT = Limit(burst=60, per_second=2.0)
"""Tokens issued to one client: a token per audience every few minutes is the normal pace."""


@dataclass
class TokenIssuer:
    """Mints access tokens: ``iss`` this service, ``sub`` the client, ``aud`` the service it will call."""

    keys: KeyRing
    issuer: str
    ttl_seconds: int = 300
    clock: Callable[[], float] = time.time

    def mint(self, client_id: str, audience: str) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": client_id,
            "client_id": client_id,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return self.keys.sign(claims)


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="switchboard-tokens"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _slow_down(retry_after: int, what: str) -> JSONResponse:
    headers = {**NO_STORE, "Retry-After": str(retry_after)}
    body = {"error": "temporarily_unavailable", "error_description": f"too many {what}; retry in {retry_after} s"}
    return JSONResponse(body, status_code=429, headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except ValueError:
        return None
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


class TokenEndpoints:
    """The routes above, around one issuer and one client registry."""

    def __init__(
        self, issuer: TokenIssuer, registry: ClientRegistry, per_address: RateLimiter, per_client: RateLimiter
    ) -> None:
        self._issuer = issuer
        self._registry = registry
        self._per_address = per_address
        self._per_client = per_client

    async def token(self, request: Request) -> JSONResponse:
        address = request.client.host if request.client else ""
        wait = self._per_address.take(address)
        if wait is not None:
            logger.warning("token requests from %s over the limit", address)
            return _slow_down(wait, "token requests from this address")
        try:
            form = await request.form()
        except Exception:
            return _oauth_error("invalid_request", "send the parameters as application/x-www-form-urlencoded")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        presented = _basic(request) or (fields.get("client_id", ""), fields.get("client_secret", ""))
        client: Client | None = self._registry.authenticate(*presented) if all(presented) else None
        if client is None:
            logger.warning("token request refused: unknown client or wrong secret (%r)", presented[0][:64])
            return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
        if fields.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "only grant_type=client_credentials is supported")
        audience = fields.get("audience") or fields.get("resource") or ""
        if not audience:
            return _oauth_error("invalid_request", "name the service to call in 'audience'")
        if not client.may_call(audience):
            logger.warning("client %s asked for a token for %s, which it may not call", client.client_id, audience)
            return _oauth_error("invalid_target", f"client {client.client_id!r} may not call {audience!r}")
        wait = self._per_client.take(client.client_id)
        if wait is not None:
            logger.warning("client %s asked for tokens over its limit", client.client_id)
            return _slow_down(wait, f"token requests by client {client.client_id!r}")
        self._issuer.keys.refresh()
        return JSONResponse(
            {
                "access_token": self._issuer.mint(client.client_id, audience),
                "token_type": "Bearer",
                "expires_in": self._issuer.ttl_seconds,
            },
            headers=NO_STORE,
        )

    async def jwks(self, request: Request) -> JSONResponse:
        self._issuer.keys.refresh()
        return JSONResponse(self._issuer.keys.jwks(), headers={"Cache-Control": "max-age=30"})

    async def metadata(self, request: Request) -> JSONResponse:
        base = self._issuer.issuer.rstrip("/")
        return JSONResponse(
            {
                "issuer": self._issuer.issuer,
                "token_endpoint": base + TOKEN_PATH,
                "jwks_uri": base + JWKS_PATH,
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "response_types_supported": ["token"],
            }
        )

    async def healthz(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "signing_key": self._issuer.keys.active_kid})


def build_token_app(
    issuer: TokenIssuer,
    registry: ClientRegistry,
    *,
    per_address: Limit = PER_ADDRESS,
    per_client: Limit = PER_CLIENT,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The token service; ``per_address`` and ``per_client`` bound how often it answers (``clock`` for tests)."""
    endpoints = TokenEndpoints(
        issuer, registry, RateLimiter(per_address, clock=clock), RateLimiter(per_client, clock=clock)
    )
    return Starlette(
        routes=[
            Route(TOKEN_PATH, endpoints.token, methods=["POST"]),
            Route(JWKS_PATH, endpoints.jwks, methods=["GET"]),
            Route(METADATA_PATH, endpoints.metadata, methods=["GET"]),
            Route("/healthz", endpoints.healthz, methods=["GET"]),
        ]
    )
