"""Binding a call to its subject: the customer (or conversation) it is about must be the verified one.

Every tool that declares a subject (``_meta["switchboard/subject"]``) must be given it: a
customer-affecting call that names no one would skip the customer and consent checks. A subject
of kind ``conversation`` (a handoff, possible before anyone is verified) must be this very
conversation, and once a customer is verified the call must name them too.
"""

from __future__ import annotations

from typing import Any

from gateway.catalog import CatalogTool
from shared.envelope import AuthClaims
from shared.errors import AuthContextInvalid

CONVERSATION_SUBJECT = "conversation"
"""A subject kind: the call is about this conversation (a handoff before anyone is verified)."""
_CUSTOMER_KEYS = ("customer_id", "email", "msisdn", "account_number")


def bind_subject(
    tool: CatalogTool,
    arguments: dict[str, Any],
    conversation_id: str,
    claims: AuthClaims | None,
    auth_error: AuthContextInvalid | None,
) -> str | None:
    """Check the call names its subject and that it is the verified customer; returns why not."""
    subject = tool.subject
    if subject is None:
        return None
    value = arguments.get(subject.arg)
    if value is None:
        return f"the {subject.arg!r} argument is required: this action affects a customer and must name who it is about"
    if subject.kind == CONVERSATION_SUBJECT:
        if value != conversation_id:
            return f"the {subject.arg!r} argument is not this conversation; act only on the conversation at hand"
        # About the conversation: any customer it also names must be the verified one, and once
        # a customer is verified the call must name them (so customer and consent checks apply).
        named = {k: arguments[k] for k in _CUSTOMER_KEYS if arguments.get(k) is not None}
        declared = set(_CUSTOMER_KEYS) & set(tool.tool.input_schema.get("properties") or {})
        if not named:
            if claims is not None and declared:
                return (
                    f"the customer is verified in this conversation, so the call must name them "
                    f"({' or '.join(sorted(declared))})"
                )
            return None
        checks = list(named.items())
    else:
        checks = [(subject.kind, value)]
    if auth_error is not None:
        return f"{auth_error.message}; {auth_error.hint or 'verify the customer'}"
    if claims is None:
        return (
            "this action is about a customer and the envelope has no verified auth context; "
            "verify the customer through the identity agent first"
        )
    for kind, given in checks:
        if not _same_key(kind, given, claims.keys.get(kind)):
            arg = subject.arg if kind == subject.kind else kind
            return (
                f"the {arg!r} argument is not the verified customer's {kind}; "
                "an agent may act only on the customer verified in this conversation"
            )
    return None


def _same_key(kind: str, given: Any, expected: str | None) -> bool:
    if expected is None or not isinstance(given, str):
        return False
    if kind == "email":
        return given.strip().casefold() == expected.casefold()
    return given == expected
