"""One helper for every test that calls an agent, the gateway or a system directly: mint a token.

``TokenAuthority`` is a token service's signing half in memory: ``mint`` a token for an
audience (optionally expired, or for another client), and ``auth`` a service identity whose
verifier trusts exactly these keys. Stack-based tests use the real token endpoint instead
(``Stack.service_auth(client).tokens.token(audience)``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

from a2a.client import AuthInterceptor, ClientCallInterceptor

from shared.service_auth import AudienceCredentials, ServiceAuth, StaticJwks, TokenVerifier, audiences
from token_service import KeyRing, TokenIssuer

ISSUER = "http://tokens.test"


class LocalTokens:
    """A ``TokenSource`` that mints directly (no HTTP): what ``ClientCredentials`` returns, for tests."""

    def __init__(self, authority: TokenAuthority, client_id: str) -> None:
        self._authority = authority
        self.client_id = client_id

    async def token(self, audience: str) -> str:
        return self._authority.mint(audience, sub=self.client_id)


class TokenAuthority:
    @classmethod
    def temporary(cls, *, ttl_seconds: int = 3600) -> TokenAuthority:
        """Keys in a fresh private directory, removed when the test process ends."""
        directory = Path(tempfile.mkdtemp(prefix="switchboard-test-tokens-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return cls(directory, ttl_seconds=ttl_seconds)

    def __init__(self, directory: Path, *, ttl_seconds: int = 300) -> None:
        self.directory = directory
        self.keys = KeyRing.load_or_create(directory, max_token_ttl=ttl_seconds)
        self.ttl = ttl_seconds

    def mint(self, audience: str | list[str], *, sub: str = "orchestrator", expired: bool = False) -> str:
        """A token for ``audience`` (a list only as a test convenience: one token for several systems)."""
        issued = time.time() - (self.ttl + 60 if expired else 0)
        issuer = TokenIssuer(self.keys, issuer=ISSUER, ttl_seconds=self.ttl, clock=lambda: issued)
        return issuer.mint(sub, audience)  # type: ignore[arg-type]

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(StaticJwks(self.keys.jwks), issuer=ISSUER, refresh_interval=0.0)

    def auth(self, client_id: str) -> ServiceAuth:
        return ServiceAuth(client_id=client_id, tokens=LocalTokens(self, client_id), verifier=self.verifier())


def as_orchestrator(authority: TokenAuthority, agent: str) -> list[ClientCallInterceptor]:
    """The interceptors an A2A client needs to call ``agent`` as the orchestrator does."""
    credentials = AudienceCredentials(LocalTokens(authority, audiences.ORCHESTRATOR), audiences.agent(agent))
    return [AuthInterceptor(credentials)]
