"""Service tokens for a2a-sdk's client (``AuthInterceptor``)."""

from __future__ import annotations

from a2a.client import ClientCallContext, CredentialService

from shared.service_auth.client import TokenSource


class AudienceCredentials(CredentialService):
    """For a2a-sdk's ``AuthInterceptor``: the token for one agent, whatever scheme its card names."""

    def __init__(self, tokens: TokenSource, audience: str) -> None:
        self._tokens = tokens
        self._audience = audience

    async def get_credentials(self, security_scheme_name: str, context: ClientCallContext | None) -> str | None:
        return await self._tokens.token(self._audience)
