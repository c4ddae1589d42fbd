"""Why a specialist could not finish a step; the executor turns each into a customer reply."""

from __future__ import annotations

from shared.errors import PolicyDenied, ServiceUnavailable, SwitchboardError


class ToolDenied(PolicyDenied):
    """The governance gateway refused a tool call; the reason is for the audit, not the customer."""

    def __init__(self, tool: str, reason: str) -> None:
        super().__init__(f"{tool} was denied: {reason}", hint="tell the customer plainly and offer a human")
        self.tool = tool
        self.reason = reason


class SystemUnavailable(ServiceUnavailable):
    """An enterprise system (or the gateway itself) did not answer; nothing was changed."""

    def __init__(self, tool: str, detail: str) -> None:
        super().__init__(f"{tool} is unavailable: {detail}", hint="retry later or hand the customer to a human")
        self.tool = tool
        self.detail = detail


class ToolFailed(SwitchboardError):
    """A tool answered with an error the procedure may act on ("no customer matches ...")."""

    code = "tool_failed"

    def __init__(self, tool: str, detail: str) -> None:
        super().__init__(f"{tool} failed: {detail}")
        self.tool = tool
        self.detail = detail
