"""What one service needs to take part in service authentication: who it is, how it gets tokens, how it checks them."""

from __future__ import annotations

from dataclasses import dataclass

from shared.service_auth.audiences import JWKS_PATH
from shared.service_auth.client import ClientCredentials, TokenSource
from shared.service_auth.verifier import RemoteJwks, TokenVerifier


@dataclass(frozen=True)
class ServiceAuth:
    """``tokens`` for this service's own calls; ``verifier`` for the tokens its callers present."""

    client_id: str
    tokens: TokenSource
    verifier: TokenVerifier


def service_auth(token_service_url: str, client_id: str, client_secret: str) -> ServiceAuth:
    """The real thing: client credentials against the token service, its JWKS for verifying."""
    base = token_service_url.rstrip("/")
    return ServiceAuth(
        client_id=client_id,
        tokens=ClientCredentials(base, client_id, client_secret),
        verifier=TokenVerifier(RemoteJwks(base + JWKS_PATH), issuer=base),
    )
