"""Why a network signal was refused; each error carries its wire code and HTTP status."""

from __future__ import annotations

from shared.errors import InvalidRequest, Unauthenticated


class BadSignature(Unauthenticated):
    code = "bad_signature"


class MalformedSignal(InvalidRequest):
    code = "malformed_signal"


class UnknownSignalType(InvalidRequest):
    code = "unknown_signal_type"
    http_status = 422


class ReplayedSignal(InvalidRequest):
    code = "replayed_signal"
    http_status = 409
