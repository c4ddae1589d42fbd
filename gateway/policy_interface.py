"""What the gateway asks a policy engine and what it answers: the small interface every engine meets.

The Cedar implementation is ``gateway.cedar_engine``; ``gateway.policy`` is the public surface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol, Self

from gateway.tool_args import argument_types

Mode = Literal["enforce", "log-only"]
MODES: tuple[str, ...] = ("enforce", "log-only")


@dataclass(frozen=True, slots=True)
class ToolFacts:
    """What policies may know about a catalog tool."""

    name: str
    system: str
    read_only: bool
    customer_scoped: bool
    purpose: str = "account-servicing"
    internal: bool = False
    arguments: Mapping[str, str | None] = field(default_factory=dict)
    """Declared arguments and their Cedar types (``gateway.tool_args``); None: unreadable."""

    @classmethod
    def of(cls, name: str, system: str, input_schema: Mapping[str, Any] | None, **facts: Any) -> ToolFacts:
        """Facts whose arguments come from the tool's JSON input schema."""
        return cls(name, system, arguments=argument_types(input_schema), **facts)


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """One question to the engine: may ``agent`` do ``action`` on ``tool`` in this context."""

    agent: str
    tool: str
    action: Literal["call", "list"] = "call"
    conversation_id: str = ""
    channel: str = ""
    customer_scoped: bool = False
    customer_verified: bool = False
    assurance: str = ""
    customer_id: str = ""
    consent_purposes: tuple[str, ...] = ()
    amount: Decimal | None = None
    fraud_hold: bool = False
    open_support_cases: int | None = None
    approved: bool = False
    hour_utc: int = 0
    # Refund facts read from the payments system for this call (absent for other tools).
    charge_refundable: bool | None = None
    refunds_today: Decimal | None = None
    daily_refund_limit: Decimal | None = None
    # The call's arguments as sent; policies read the declared ones as ``context.args``.
    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    policy_ids: list[str] = field(default_factory=list)
    reason: str = ""
    approval_required: bool = False
    would_deny: bool = False
    """Allowed only because a log-only policy was left out: with every policy it would have been
    denied or held. Recorded as the decision value ``would-deny``."""


class PolicyEngine(Protocol):
    """Decides tool calls. The gateway tells it the catalog whenever an upstream is (re)listed."""

    def decide(self, request: PolicyRequest) -> Decision: ...

    def set_tools(self, tools: Iterable[ToolFacts]) -> None: ...

    def policy_ids(self) -> list[str]: ...

    def modes(self) -> dict[str, str]: ...

    def set_mode(self, policy_id: str, mode: str) -> None: ...

    def reload(self) -> None: ...

    def load_fresh(self) -> Self:
        """The policy folder read and checked again, not yet in force (reads files: off the event loop)."""
        ...

    def adopt(self, fresh: Self) -> None:
        """Put a set ``load_fresh`` returned in force."""
        ...

    def protective(self, policy_id: str) -> bool: ...

    def definitions(self) -> dict[str, dict[str, Any]]:
        """Every policy in force by id, as parsed (what a reload is compared on)."""
        ...

    def snapshot(self) -> Self:
        """A copy of the set in force now, to put back later (``adopt``)."""
        ...


def cedar_amount(value: Any) -> Decimal | None:
    """Parse an ``amount`` argument; numeric strings count because upstreams coerce them.

    Raises ValueError for anything that is not a finite number.
    """
    if isinstance(value, bool):
        raise ValueError("amount must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("amount must be a number") from None
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    if abs(amount) >= _MAX_AMOUNT:
        raise ValueError("amount is out of range")
    return amount.quantize(Decimal("0.0001"))


# Cedar decimals hold about 9.2e14; anything near that is an attack, not a refund.
_MAX_AMOUNT = Decimal("1e12")
