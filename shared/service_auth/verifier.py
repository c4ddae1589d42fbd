"""Verifying service tokens: signature by a key in the token service's JWKS, issuer, audience, expiry.

The key set is loaded once and fetched again only when a token names a key id it does not
hold (a rotation happened), at most once per ``refresh_interval``: no per-call round trip,
and a stream of made-up key ids cannot turn the verifier into a load generator. A token's
signature is checked once and remembered (tokens are immutable); its expiry and audience
are checked on every call.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from shared.errors import ServiceUnavailable, Unauthenticated
from shared.tls import client_tls

ALGORITHM = "Ed25519"
LEEWAY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ServiceClaims:
    """A verified caller: ``sub`` is its client id (``orchestrator``, ``billing``, ``external:partner``)."""

    sub: str
    aud: str
    iss: str
    exp: int
    token: str


class KeySource(Protocol):
    """Where the public keys come from: the token service's JWKS over HTTP, or a key set in memory."""

    async def fetch(self) -> dict[str, Any]: ...


class RemoteJwks:
    """The token service's published key set."""

    def __init__(
        self, url: str, *, timeout_seconds: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url
        self._timeout = timeout_seconds
        self._transport = transport

    async def fetch(self) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport, verify=client_tls()) as http:
                response = await http.get(self.url)
                response.raise_for_status()
                body: dict[str, Any] = response.json()
                return body
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(
                f"the token service's key set at {self.url} could not be read ({type(exc).__name__})",
                hint="check that the token service is running and SWITCHBOARD_TOKEN_URL points at it",
            ) from exc


class StaticJwks:
    """A key set handed over in memory (the token service verifying its own tokens, tests)."""

    def __init__(self, keys: Callable[[], dict[str, Any]]) -> None:
        self._keys = keys

    async def fetch(self) -> dict[str, Any]:
        return self._keys()


def refused(why: str) -> Unauthenticated:
    return Unauthenticated(why, hint="get a token for this service from the token service (client credentials)")


def unverified_subject(token: str) -> str | None:
    """The ``sub`` a token claims, WITHOUT checking anything: only to name a refused caller in a record."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub[:100] if isinstance(sub, str) else None


class TokenVerifier:
    """Verifies bearer tokens issued by ``issuer`` for a given audience."""

    def __init__(
        self,
        source: KeySource,
        *,
        issuer: str,
        refresh_interval: float = 10.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self.issuer = issuer
        self._keys: KeySet | None = None
        self._refresh_interval = refresh_interval
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock

    async def load(self) -> None:
        """Fetch the key set now (start-up); a failure is retried on the first token."""
        await self._refresh(force=True)

    async def _refresh(self, *, force: bool = False) -> bool:
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._last_fetch < self._refresh_interval:
                return False
            self._last_fetch = now
            # A JWKS document as parsed JSON; joserfc names its shape only in a private TypedDict and checks it.
            self._keys = KeySet.import_key_set(await self._source.fetch())  # type: ignore[arg-type]
            return True

    def _decode(self, token: str) -> dict[str, Any]:
        assert self._keys is not None
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[ALGORITHM])
        except InvalidKeyIdError:
            raise
        except (JoseError, ValueError) as exc:
            raise refused("the token's signature is not valid") from exc
        claims: dict[str, Any] = dict(decoded.claims)
        return claims

    async def _claims(self, token: str) -> dict[str, Any]:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if self._keys is None:
            await self._refresh(force=True)
        try:
            claims = self._decode(token)
        except InvalidKeyIdError:
            # A key this verifier has not seen: a rotation, or a key nobody here trusts.
            if not await self._refresh():
                raise refused("the token is signed by a key the token service does not publish") from None
            try:
                claims = self._decode(token)
            except InvalidKeyIdError:
                raise refused("the token is signed by a key the token service does not publish") from None
        self._cache[token] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    async def verify(self, token: str, audience: str) -> ServiceClaims:
        """The caller's verified claims; raises ``Unauthenticated`` saying what is wrong."""
        if not token or token.count(".") != 2:
            raise refused("the bearer token is not a signed token")
        claims = await self._claims(token)
        if claims.get("iss") != self.issuer:
            raise refused("the token was not issued by this deployment's token service")
        aud = claims.get("aud")
        if aud != audience and not (isinstance(aud, list) and audience in aud):
            raise refused(f"the token is for another service ({str(aud)[:60]!r}), not {audience!r}")
        exp, sub = claims.get("exp"), claims.get("sub")
        if not isinstance(exp, int) or exp + LEEWAY_SECONDS <= self._clock():
            raise refused("the token has expired")
        if not isinstance(sub, str) or not sub:
            raise refused("the token names no client")
        return ServiceClaims(sub=sub, aud=audience, iss=self.issuer, exp=exp, token=token)


Authenticate = Callable[[str, str], Awaitable[ServiceClaims]]
