"""Service-to-service authentication: short-lived tokens from the token service, checked at every hop.

The names below load their module when first used: ``shared.service_auth.audiences`` (plain
names, read by the CLI and by the credentials file) must not pull in the HTTP clients and the
JOSE library, which a process that only prepares the data directory never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.service_auth.a2a_client import AudienceCredentials
    from shared.service_auth.client import BearerAuth, ClientCredentials, TokenSource
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

_MODULE_OF = {
    "AudienceCredentials": "a2a_client",
    "BearerAuth": "client",
    "ClientCredentials": "client",
    "TokenSource": "client",
    "CALLER_SCOPE_KEY": "guard",
    "REFUSALS_PATH": "guard",
    "Refusal": "guard",
    "RefusalReporter": "guard",
    "RequireToken": "guard",
    "current_caller": "guard",
    "ServiceAuth": "identity",
    "service_auth": "identity",
    "KeySource": "verifier",
    "RemoteJwks": "verifier",
    "ServiceClaims": "verifier",
    "StaticJwks": "verifier",
    "TokenVerifier": "verifier",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
