"""The governance gateway: every agent tool call is authenticated, authorized, audited, forwarded.

Public surface: ``build_gateway_app`` (the ASGI app), ``verify_audit`` and ``read_audit``
(reading the hash-chained audit log from any process).

The names are loaded when first used: a command that needs one module of the gateway (the
policy engine for ``switchboard policy check``, the catalog) does not load the whole app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.app import build_gateway_app
    from gateway.audit_check import verify_audit
    from gateway.audit_reader import read_audit

__all__ = ["build_gateway_app", "read_audit", "verify_audit"]


def __getattr__(name: str) -> Any:
    if name == "build_gateway_app":
        from gateway.app import build_gateway_app

        return build_gateway_app
    if name == "read_audit":
        from gateway.audit_reader import read_audit

        return read_audit
    if name == "verify_audit":
        from gateway.audit_check import verify_audit

        return verify_audit
    raise AttributeError(f"module 'gateway' has no attribute {name!r}")
