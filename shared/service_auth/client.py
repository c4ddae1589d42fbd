"""Getting service tokens: OAuth 2.0 client credentials, cached per audience, refreshed before expiry.

A service asks for a token the first time it calls an audience and again only when the
cached one is close to expiring, so the hot path is a dictionary read. The adapters attach
the token where each protocol's client wants it: ``BearerAuth`` for MCP (httpx2), and
``AudienceCredentials`` (``a2a_client``, apart: it loads a2a-sdk's client, which only callers of
A2A agents need) for the a2a-sdk's ``AuthInterceptor``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import httpx
import httpx2

from shared.errors import ServiceUnavailable, Unauthenticated
from shared.service_auth.audiences import TOKEN_PATH
from shared.tls import client_tls


class TokenSource(Protocol):
    """Tokens for the audiences a client may call."""

    async def token(self, audience: str) -> str: ...


@dataclass(frozen=True, slots=True)
class _Cached:
    token: str
    refresh_at: float


class ClientCredentials:
    """A client of the token service: ``POST {token_url}`` with ``grant_type=client_credentials``."""

    def __init__(
        self,
        token_service_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._transport = transport  # None: the network; tests pass httpx.ASGITransport(token app)
        self._endpoint = token_service_url.rstrip("/") + TOKEN_PATH
        self.client_id = client_id
        # RFC 6749 2.3.1: each part is form-urlencoded before Basic encoding (client ids hold ':').
        basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()).decode()
        self._authorization = f"Basic {basic}"
        self._timeout = timeout_seconds
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, audience: str) -> str:
        cached = self._cache.get(audience)
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        lock = self._locks.setdefault(audience, asyncio.Lock())
        async with lock:  # one request per audience, however many callers wait for it
            cached = self._cache.get(audience)
            if cached is not None and self._clock() < cached.refresh_at:
                return cached.token
            fresh = await self._request(audience)
            self._cache[audience] = fresh
            return fresh.token

    async def _request(self, audience: str) -> _Cached:
        asked = self._clock()
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport, verify=client_tls()) as http:
                response = await http.post(
                    self._endpoint,
                    data={"grant_type": "client_credentials", "audience": audience},
                    headers={"Authorization": self._authorization},
                )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"the token service at {self._endpoint} did not answer ({type(exc).__name__})",
                hint="check that the token service is running",
            ) from exc
        if response.status_code in (400, 401):
            detail = response.json().get("error_description", "") if response.content else ""
            raise Unauthenticated(
                f"the token service refused client {self.client_id!r} a token for {audience!r}: {detail}",
                hint="check the client's credentials and the audiences it is registered for",
            )
        if response.status_code != 200:
            raise ServiceUnavailable(f"the token service answered HTTP {response.status_code}")
        body = response.json()
        lifetime = float(body.get("expires_in", 60))
        # Refresh once 80 % of the lifetime has passed: a token handed out is never about to expire.
        return _Cached(token=str(body["access_token"]), refresh_at=asked + lifetime * 0.8)


class BearerAuth(httpx2.Auth):
    """httpx2 (MCP client) auth: a fresh-enough token for ``audience`` on every request."""

    def __init__(self, tokens: TokenSource, audience: str) -> None:
        self._tokens = tokens
        self._audience = audience

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        request.headers["Authorization"] = f"Bearer {await self._tokens.token(self._audience)}"
        yield request
