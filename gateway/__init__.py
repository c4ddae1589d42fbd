"""The governance gateway: every agent tool call is authenticated, authorized, audited, forwarded.

Public surface: ``build_gateway_app`` (the ASGI app), ``verify_audit`` and ``read_audit``
(reading the hash-chained audit log from any process).
"""

from gateway.app import build_gateway_app
from gateway.audit_store import read_audit, verify_audit

__all__ = ["build_gateway_app", "read_audit", "verify_audit"]
