"""Token auth as A2A sees it, for every A2A server here (the specialists and the orchestrator).

``security`` is the AgentCard's part that tells a caller where to get a token and for which
audience. ``CallerContextBuilder`` turns the claims ``RequireToken`` verified into the
``ServerCallContext.user``, so tasks are owned by the client that created them and an executor
knows whom it serves.
"""

from __future__ import annotations

from typing import TypedDict

from a2a.auth.user import User
from a2a.server.routes import DefaultServerCallContextBuilder
from a2a.types import (
    ClientCredentialsOAuthFlow,
    OAuth2SecurityScheme,
    OAuthFlows,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from starlette.requests import Request

from shared.service_auth.guard import CALLER_SCOPE_KEY
from shared.service_auth.verifier import ServiceClaims

SECURITY_SCHEME = "switchboard"


class CardSecurity(TypedDict):
    """The AgentCard fields ``security`` fills in, spread into the card's constructor."""

    security_schemes: dict[str, SecurityScheme]
    security_requirements: list[SecurityRequirement]


def security(token_url: str, audience: str) -> CardSecurity:
    """The card's auth: OAuth 2.0 client credentials at ``token_url``, a bearer token for ``audience``."""
    # Access is by audience, not scope; the one scope names it so the flow is complete.
    flow = ClientCredentialsOAuthFlow(token_url=token_url, scopes={audience: f"call {audience}"})
    scheme = SecurityScheme(
        oauth2_security_scheme=OAuth2SecurityScheme(
            description=f"a token from Switchboard's token service with audience {audience!r} "
            "(grant_type=client_credentials, audience=" + audience + ")",
            flows=OAuthFlows(client_credentials=flow),
        )
    )
    return {
        "security_schemes": {SECURITY_SCHEME: scheme},
        "security_requirements": [SecurityRequirement(schemes={SECURITY_SCHEME: StringList(list=[])})],
    }


class CallerUser(User):
    def __init__(self, claims: ServiceClaims) -> None:
        self.claims = claims

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return self.claims.sub


class CallerContextBuilder(DefaultServerCallContextBuilder):
    def build_user(self, request: Request) -> User:
        claims = request.scope.get(CALLER_SCOPE_KEY)
        if isinstance(claims, ServiceClaims):
            return CallerUser(claims)
        return super().build_user(request)
