"""Errors of the governance API, each with its HTTP status (the table in ``shared.errors``'s style)."""

from __future__ import annotations

from shared.errors import SwitchboardError


class ApprovalConflict(SwitchboardError):
    """The approval was already decided (a replay), or the decider is the requester."""

    code = "approval_conflict"
    http_status = 409


class ApprovalGone(SwitchboardError):
    """The approval expired before anyone decided it."""

    code = "approval_expired"
    http_status = 410


class ChangeConflict(SwitchboardError):
    """A control change is not in the state the request needs (decided, lapsed, or moot)."""

    code = "change_conflict"
    http_status = 409
