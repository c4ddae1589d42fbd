"""Service-to-service authentication: short-lived tokens from the token service, checked at every hop."""

from shared.service_auth.client import AudienceCredentials, BearerAuth, ClientCredentials, TokenSource
from shared.service_auth.guard import (
    CALLER_SCOPE_KEY,
    REFUSALS_PATH,
    Refusal,
    RefusalReporter,
    RequireToken,
    current_caller,
)
from shared.service_auth.identity import ServiceAuth, service_auth
from shared.service_auth.verifier import KeySource, RemoteJwks, ServiceClaims, StaticJwks, TokenVerifier

__all__ = [
    "CALLER_SCOPE_KEY",
    "REFUSALS_PATH",
    "AudienceCredentials",
    "BearerAuth",
    "ClientCredentials",
    "KeySource",
    "Refusal",
    "RefusalReporter",
    "RemoteJwks",
    "RequireToken",
    "ServiceAuth",
    "ServiceClaims",
    "StaticJwks",
    "TokenSource",
    "TokenVerifier",
    "current_caller",
    "service_auth",
]
