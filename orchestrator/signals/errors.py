"""Why a network signal was refused; each error carries its wire code and HTTP status."""

from __future__ import annotations

from shared.errors import InvalidRequest, SwitchboardError, Unauthenticated


class BadSignature(Unauthenticated):
    code = "bad_signature"


class MalformedSignal(InvalidRequest):
    code = "malformed_signal"


class UnknownSignalType(InvalidRequest):
    code = "unknown_signal_type"
    http_status = 422


class SignalOutOfWindow(InvalidRequest):
    """Dated too far in the past or the future: a stale or pre-dated signal is never applied."""

    code = "signal_out_of_window"
    http_status = 422


class ReplayedSignal(InvalidRequest):
    code = "replayed_signal"
    http_status = 409


class RefusalsRateLimited(SwitchboardError):
    """Too many refused signals from one source: answered without recording, until it calms down."""

    code = "too_many_refusals"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after
