"""One exception root for Switchboard and one table mapping each error to its wire code.

Developer mistakes (``ConfigurationError``) are kept apart from runtime failures so that a
bad policy file or agent card stops start-up, while a dead downstream only fails one turn.
Every message says what happened and what to do next; internals stay server-side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def first_problem(exc: ValidationError, where: str = "body") -> str:
    """``field.path: what is wrong`` for the first error pydantic found, for a client to fix
    (``where`` names the whole input when the error is not about one field)."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first.get("loc", ())) or where
    return f"{path}: {first.get('msg')}"


class SwitchboardError(Exception):
    """Root of every error Switchboard raises on purpose."""

    code = "internal_error"
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        return body


class ConfigurationError(SwitchboardError):
    """A developer's mistake: bad settings, policy file, skill or agent card. Fix and restart."""

    code = "configuration_error"


class InvalidRequest(SwitchboardError):
    """The caller sent something malformed; nothing was changed."""

    code = "invalid_request"
    http_status = 400


class PayloadTooLarge(InvalidRequest):
    code = "payload_too_large"
    http_status = 413


class NotFound(SwitchboardError):
    code = "not_found"
    http_status = 404


class Unauthenticated(SwitchboardError):
    """The caller did not prove who it is (missing or wrong credential)."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(SwitchboardError):
    """Authenticated, but this role may not do this."""

    code = "forbidden"
    http_status = 403


class AuthContextInvalid(SwitchboardError):
    """A customer auth context that is forged, expired or for someone else."""

    code = "auth_context_invalid"
    http_status = 403


class PolicyDenied(SwitchboardError):
    code = "policy_denied"
    http_status = 403


class ServiceUnavailable(SwitchboardError):
    """A downstream service did not answer; the caller may retry or escalate."""

    code = "service_unavailable"
    http_status = 503


class Overloaded(ServiceUnavailable):
    """At capacity: new work is refused at once instead of queued; retry after ``retry_after`` seconds."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class RateLimited(SwitchboardError):
    """This caller asked too often; retry after ``retry_after`` seconds (429 with ``Retry-After``)."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


ERROR_TABLE: dict[type[SwitchboardError], tuple[str, int]] = {
    cls: (cls.code, cls.http_status)
    for cls in (
        SwitchboardError,
        ConfigurationError,
        InvalidRequest,
        PayloadTooLarge,
        NotFound,
        Unauthenticated,
        Forbidden,
        AuthContextInvalid,
        PolicyDenied,
        ServiceUnavailable,
        Overloaded,
        RateLimited,
    )
}
