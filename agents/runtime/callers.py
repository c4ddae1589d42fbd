"""The authenticated A2A caller, as the a2a-sdk sees it.

``RequireToken`` (in front of the A2A routes) verified the caller's token and put its claims
in the ASGI scope; this builder turns them into the ``ServerCallContext.user``, so tasks are
owned by the client that created them and the executor knows whom it serves.
"""

from __future__ import annotations

from a2a.auth.user import User
from a2a.server.routes import DefaultServerCallContextBuilder
from starlette.requests import Request

from shared.service_auth import CALLER_SCOPE_KEY, ServiceClaims


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
