"""Switchboard's token service: the authorization server every hop trusts (its own process in scale-out)."""

from token_service.app import TokenIssuer, build_token_app
from token_service.clients import ClientRegistry
from token_service.keys import KeyRing

__all__ = ["ClientRegistry", "KeyRing", "TokenIssuer", "build_token_app"]
