"""What policy would decide for one tool call, asked without a running gateway.

The same engine, catalog and argument typing the gateway uses, with the facts the gateway
would read from the systems of record (verification, consent, holds, refund facts) given
as assumptions instead. The answer names the deciding policies and what an approval needs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from gateway.catalog import Catalog, CatalogTool
from gateway.cedar_engine import CedarPolicyEngine
from gateway.policy_interface import Decision, PolicyRequest
from gateway.tool_args import BOOL, DECIMAL, LONG, STRING, argument_types
from shared.errors import InvalidRequest

Verdict = Literal["allow", "deny", "approval-required"]


@dataclass(frozen=True, slots=True)
class Assumptions:
    """The facts the gateway would read for the call; the defaults are a verified, consenting customer."""

    verified: bool = True
    assurance: str = "AAL2"
    consent: tuple[str, ...] | None = None
    """Purposes the customer consents to; None: exactly the tool's purpose."""
    fraud_hold: bool = False
    open_support_cases: int = 0
    channel: str = "chat"
    charge_refundable: bool | None = None
    """For tools with refund facts: the charge is a duplicate or an error; None: unknown."""
    refunded_today: Decimal = Decimal("0")
    daily_refund_limit: Decimal = Decimal("100.00")


@dataclass(frozen=True, slots=True)
class CheckResult:
    verdict: Verdict
    reason: str
    policies: list[tuple[str, str]]
    """Each deciding policy id with its ``file:line``."""
    approval: str
    listed: bool
    arguments: dict[str, Any]
    assumed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _close(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=3)
    return f"did you mean {', '.join(near)}?" if near else f"known: {', '.join(known)}"


def parse_arguments(tool: CatalogTool, pairs: Sequence[str]) -> dict[str, Any]:
    """``name=value`` pairs typed by the tool's input schema; InvalidRequest names what is wrong."""
    types = argument_types(tool.tool.input_schema)
    properties = (tool.tool.input_schema or {}).get("properties") or {}
    parsed: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise InvalidRequest(f"--arg {pair!r} is not name=value", hint="e.g. --arg percent=30")
        if name not in types:
            raise InvalidRequest(
                f"{tool.name} has no argument {name!r}",
                hint=f"its arguments: {', '.join(sorted(types)) or 'none'}",
            )
        parsed[name] = _typed(tool.name, name, types[name], text, properties.get(name) or {})
    return parsed


def _typed(tool: str, name: str, kind: str | None, text: str, schema: dict[str, Any]) -> Any:
    if kind is not None and kind.startswith("Set<"):
        return [_typed(tool, name, kind[4:-1], item.strip(), {}) for item in text.split(",") if item.strip()]
    try:
        if kind == LONG:
            return int(text)
        if kind == DECIMAL:
            value = Decimal(text)
            if not value.is_finite():
                raise InvalidOperation
            return float(value) if value != value.to_integral_value() else int(value)
    except (ValueError, InvalidOperation):
        expected = "a whole number" if kind == LONG else "a number"
        raise InvalidRequest(f"{tool} argument {name!r} must be {expected}, not {text!r}") from None
    if kind == BOOL:
        if text.lower() not in ("true", "false"):
            raise InvalidRequest(f"{tool} argument {name!r} must be true or false, not {text!r}")
        return text.lower() == "true"
    if kind == STRING and isinstance(schema.get("enum"), list) and text not in schema["enum"]:
        raise InvalidRequest(f"{tool} argument {name!r} must be one of {', '.join(map(str, schema['enum']))}")
    return text


def check(
    engine: CedarPolicyEngine,
    catalog: Catalog,
    agents: Iterable[str],
    agent: str,
    tool_name: str,
    pairs: Sequence[str],
    assume: Assumptions = Assumptions(),
) -> CheckResult:
    """Decide one call as the gateway would; InvalidRequest for an unknown agent, tool or argument."""
    agents = set(agents)
    if agent not in agents:
        raise InvalidRequest(f"no agent {agent!r}", hint=_close(agent, agents))
    tool = catalog.tools.get(tool_name)
    if tool is None:
        raise InvalidRequest(f"no tool {tool_name!r} in the catalog", hint=_close(tool_name, catalog.tools))
    arguments = parse_arguments(tool, pairs)
    required = (tool.tool.input_schema or {}).get("required") or []
    missing = [name for name in required if name not in arguments]
    scoped = assume.verified and tool.subject is not None
    consent = assume.consent if assume.consent is not None else (tool.purpose,)
    amount = Decimal(str(arguments["amount"])) if isinstance(arguments.get("amount"), int | float) else None
    refund: dict[str, Any] = {}
    if tool.fact_source is not None and scoped and amount is not None and assume.charge_refundable is not None:
        refund = {
            "charge_refundable": assume.charge_refundable,
            "refunds_today": assume.refunded_today + amount,
            "daily_refund_limit": assume.daily_refund_limit,
        }
    request = PolicyRequest(
        agent=agent,
        tool=tool.name,
        conversation_id="policy-check",
        channel=assume.channel,
        customer_scoped=scoped,
        customer_verified=assume.verified,
        assurance=assume.assurance if assume.verified else "",
        customer_id="CUST-CHECK" if assume.verified else "",
        consent_purposes=consent if scoped else (),
        amount=amount,
        arguments=arguments,
        fraud_hold=assume.verified and assume.fraud_hold,
        open_support_cases=assume.open_support_cases if tool.purpose == "marketing" else None,
        **refund,
    )
    decision = engine.decide(request)
    verdict: Verdict = "allow" if decision.allowed else "approval-required" if decision.approval_required else "deny"
    assumed = [
        f"customer verified at {assume.assurance}" if assume.verified else "customer not verified",
        f"consents to {', '.join(consent) or 'nothing'}" if scoped else "the call names no verified customer",
        f"fraud hold {'on' if assume.fraud_hold else 'off'}",
        f"channel {assume.channel}",
    ]
    if tool.purpose == "marketing":
        assumed.append(f"{assume.open_support_cases} open support cases")
    if tool.fact_source is not None:
        assumed.append(
            "refund facts unknown (the gateway holds such a call)"
            if not refund
            else f"charge {'is' if assume.charge_refundable else 'is not'} a duplicate or an error, "
            f"{assume.refunded_today} refunded today, daily limit {assume.daily_refund_limit}"
        )
    return CheckResult(
        verdict=verdict,
        reason=decision.reason,
        policies=[(pid, _short(engine.where(pid))) for pid in decision.policy_ids],
        approval=_approval(engine, request, decision),
        listed=tool.tool in catalog.listing(agent).tools,
        arguments=arguments,
        assumed=assumed,
        missing=missing,
    )


def _short(where: str) -> str:
    """``file:line`` relative to the working directory when the file is under it."""
    path, sep, line = where.rpartition(":")
    if not sep or not line.isdigit():
        return where
    try:
        return f"{Path(path).relative_to(Path.cwd())}:{line}"
    except ValueError:
        return where


def _approval(engine: CedarPolicyEngine, request: PolicyRequest, decision: Decision) -> str:
    """What a human approval would change for this call."""
    if decision.allowed:
        return "not needed"
    if not decision.approval_required:
        return 'would not help: only approval policies (@approval("required")) can be lifted by a human'
    after = engine.decide(replace(request, approved=True))
    held_by = ", ".join(decision.policy_ids)
    if after.allowed:
        return (
            f"a human with the approver role approves the held call ({held_by}; switchboard approvals approve ID); "
            f"it then runs once, allowed by {', '.join(after.policy_ids)}"
        )
    return f"even approved ({held_by}) the call would be refused: {after.reason}"


def render(result: CheckResult, agent: str, tool: str) -> str:
    """The answer as a few lines for a person."""
    lines = [f"decision: {result.verdict}", f"  reason: {result.reason}"]
    if result.policies:
        lines.append("  decided by:")
        lines += [f"    {pid} ({where})" for pid, where in result.policies]
    else:
        lines.append("  decided by: no policy (deny by default)")
    lines.append(f"approval: {result.approval}")
    lines.append(f"{agent} {'sees' if result.listed else 'does not see'} {tool} in its tool list")
    lines.append(f"arguments as the gateway reads them: {result.arguments}")
    if result.missing:
        lines.append(f"missing required arguments: {', '.join(result.missing)} (the system would refuse the call)")
    lines.append("assumed: " + "; ".join(result.assumed))
    return "\n".join(lines)
