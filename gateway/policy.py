"""Authorization decisions: a tiny engine interface and its Cedar implementation.

The Cedar engine parses and validates every policy file once at start-up; a decision on
the hot path reuses the parsed policy set and entity graph and sends only the context
attributes policies read (about 0.15 ms). Deny by default, a forbid wins over any permit,
and an evaluation error denies: a policy that cannot be evaluated never lets a call through.

Two annotations besides ``@id`` mean something here:
- ``@approval("required")`` on a forbid: when only such policies deny a call, the call is
  held for a human approval instead of denied, and allowed once approved (``context.approved``).
- Each policy has an enforcement mode, ``enforce`` (default) or ``log-only``: a log-only
  policy is left out of the decision, and the decision records what it would have changed (a
  call allowed only because of it is recorded as ``would-deny``).
- ``@trial("true")`` marks a forbid as a new policy under trial. Every other forbid is
  *protective*: switching it to log-only weakens a control, which takes a second person and
  expires (``weakening``).
  Modes change at run time (a privileged, audited action); the policy sets are rebuilt then,
  never per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Protocol

import cedarpy

from shared.errors import ConfigurationError
from shared.resources import package_dir

SCHEMA_FILE = "schema.cedarschema"
DEFAULT_POLICY_DIR = package_dir("gateway.policies")


APPROVAL_ANNOTATION = "approval"
TRIAL_ANNOTATION = "trial"
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

    def protective(self, policy_id: str) -> bool: ...


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


def _line_of_first_error(text: str) -> int | None:
    """Cedar's parse errors carry no position: parse statement by statement to find it."""
    start, chunk = 1, []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0].rstrip()
        if not chunk:
            if not code.strip():
                continue
            start = number
        chunk.append(line)
        if code.endswith(";"):
            try:
                cedarpy.PolicySet.from_str("\n".join(chunk))
            except ValueError:
                return start
            chunk = []
    return start if any(c.split("//", 1)[0].strip() for c in chunk) else None


def _where(path: Path, text: str, policy_id: str) -> str:
    """``file:line`` of the policy with this @id (validation errors name the policy, not the line)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{policy_id}"' in line and "@id" in line:
            return f"{path}:{number}"
    return str(path)


class CedarPolicyEngine:
    """Cedar policies from a folder: ``schema.cedarschema`` plus every ``*.cedar`` file."""

    def __init__(self, policies: dict[str, dict[str, Any]], schema: cedarpy.Schema, files: list[Path]) -> None:
        self._policies_json = policies
        self._schema = schema
        self.files = files
        self._set_entities(cedarpy.Entities.from_json_str("[]", schema))
        self._approval_ids = frozenset(
            pid for pid, p in policies.items() if (p.get("annotations") or {}).get(APPROVAL_ANNOTATION) == "required"
        )
        self._modes: dict[str, str] = dict.fromkeys(policies, "enforce")
        # Cedar parses every context attribute on every call (~5 µs each, ~20 µs for a decimal),
        # so a call sends only the attributes some policy reads; None means a policy reads it whole.
        self._context_keys = _context_attributes(policies.values())
        self._rebuild()

    def _rebuild(self) -> None:
        """The enforced set, and the full set only while some policy is log-only (else no extra work)."""
        enforced = {pid: p for pid, p in self._policies_json.items() if self._modes[pid] == "enforce"}
        self._enforced = _policy_set(enforced)
        shadowed = len(enforced) != len(self._policies_json)
        self._full = _policy_set(self._policies_json) if shadowed else None

    def policy_ids(self) -> list[str]:
        return sorted(self._policies_json)

    def modes(self) -> dict[str, str]:
        return dict(self._modes)

    def protective(self, policy_id: str) -> bool:
        """A forbid protects: running it log-only weakens a control (four eyes and an expiry).

        A forbid annotated ``@trial("true")`` is a new policy under trial, which log-only is for;
        a permit in log-only only takes access away.
        """
        policy = self._policies_json[policy_id]
        return policy.get("effect") == "forbid" and (policy.get("annotations") or {}).get(TRIAL_ANNOTATION) != "true"

    def set_mode(self, policy_id: str, mode: str) -> None:
        """Switch one policy between ``enforce`` and ``log-only``; raises KeyError/ValueError."""
        if policy_id not in self._policies_json:
            raise KeyError(policy_id)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self._modes[policy_id] = mode
        self._rebuild()

    @classmethod
    def load(cls, policy_dir: Path) -> CedarPolicyEngine:
        """Parse and validate every file; a mistake raises ConfigurationError naming file and line."""
        schema_path = policy_dir / SCHEMA_FILE
        if not schema_path.is_file():
            raise ConfigurationError(
                f"{schema_path}: the Cedar schema is missing", hint="every policy folder needs schema.cedarschema"
            )
        try:
            schema = cedarpy.Schema.from_str(schema_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigurationError(f"{schema_path}: not a valid Cedar schema: {exc}") from exc
        files = sorted(policy_dir.glob("*.cedar"))
        if not files:
            raise ConfigurationError(f"{policy_dir}: no *.cedar policy files", hint="deny-all needs no gateway")
        policies: dict[str, dict[str, Any]] = {}
        seen: dict[str, Path] = {}
        for path in files:
            text = path.read_text(encoding="utf-8")
            for policy_id, policy in cls._check_file(path, text, schema):
                if policy_id in seen:
                    raise ConfigurationError(
                        f"{_where(path, text, policy_id)}: policy id {policy_id!r} is also used in {seen[policy_id]}",
                        hint="every @id must be unique: the audit log names policies by it",
                    )
                seen[policy_id] = path
                policies[policy_id] = policy
        return cls(policies, schema, files)

    @staticmethod
    def _check_file(path: Path, text: str, schema: cedarpy.Schema) -> list[tuple[str, dict[str, Any]]]:
        try:
            parsed = json.loads(cedarpy.policies_to_json_str(text))
        except ValueError as exc:
            line = _line_of_first_error(text)
            where = f"{path}:{line}" if line else str(path)
            raise ConfigurationError(f"{where}: Cedar syntax error: {exc}") from exc
        if parsed.get("templates"):
            raise ConfigurationError(f"{path}: policy templates are not supported here; write static policies")
        ids = []
        for policy in parsed.get("staticPolicies", {}).values():
            annotations = policy.get("annotations") or {}
            policy_id = annotations.get("id")
            if not policy_id:
                raise ConfigurationError(
                    f'{path}: a policy has no @id("...") annotation',
                    hint="give every policy a unique @id; the audit log records it",
                )
            if APPROVAL_ANNOTATION in annotations and (
                annotations[APPROVAL_ANNOTATION] != "required" or policy.get("effect") != "forbid"
            ):
                raise ConfigurationError(
                    f'{_where(path, text, policy_id)}: policy {policy_id!r}: @approval("required") belongs on a forbid',
                    hint="an approval policy is a forbid that holds the call until a human approves it",
                )
            ids.append((policy_id, policy))
        result = cedarpy.validate_policies(text, schema)
        if not result.validation_passed:
            first = result.errors[0]
            policy_id = result.id_annotations_by_policy_id.get(first.policy_id, first.policy_id)
            raise ConfigurationError(
                f"{_where(path, text, policy_id)}: policy {policy_id!r} does not match the schema: {first.error}",
                hint=f"fix the policy or {SCHEMA_FILE}",
            )
        return ids

    def set_tools(self, tools: Iterable[ToolFacts]) -> None:
        """Rebuild the entity graph (tools and their systems); called when an upstream is listed."""
        tools = list(tools)
        entities = [{"uid": {"type": "System", "id": s}, "attrs": {}, "parents": []} for s in {t.system for t in tools}]
        entities += [
            {
                "uid": {"type": "Tool", "id": t.name},
                "attrs": {
                    "system": t.system,
                    "read_only": t.read_only,
                    "customer_scoped": t.customer_scoped,
                    "purpose": t.purpose,
                    "internal": t.internal,
                },
                "parents": [{"type": "System", "id": t.system}],
            }
            for t in tools
        ]
        self._set_entities(cedarpy.Entities.from_json_str(json.dumps(entities), self._schema))

    def _set_entities(self, entities: cedarpy.Entities) -> None:
        self._entities = entities

    def decide(self, request: PolicyRequest) -> Decision:
        cedar_request = {
            "principal": {"type": "Agent", "id": request.agent},
            "action": {"type": "Action", "id": request.action},
            "resource": {"type": "Tool", "id": request.tool},
            "context": json.dumps(self._read_context(request)),
        }
        # No schema here on purpose: it was checked against the policies at start-up and
        # _context always builds the same shape; per-call request validation would triple the cost.
        decision = self._evaluate(cedar_request, self._enforced, request)
        if self._full is not None and request.action == "call":
            would = self._evaluate(cedar_request, self._full, request)
            if (would.allowed, would.approval_required) != (decision.allowed, decision.approval_required):
                verdict = "approval" if would.approval_required else ("allow" if would.allowed else "deny")
                shadow = [p for p in would.policy_ids if self._modes.get(p) == "log-only"] or would.policy_ids
                note = f"; log-only policies would have answered {verdict} ({', '.join(shadow)})"
                decision = Decision(
                    decision.allowed,
                    decision.policy_ids,
                    decision.reason + note,
                    decision.approval_required,
                    would_deny=decision.allowed and not would.allowed,
                )
        return decision

    def _evaluate(self, cedar_request: dict[str, Any], policies: cedarpy.PolicySet, request: PolicyRequest) -> Decision:
        result = cedarpy.is_authorized(cedar_request, policies, self._entities)
        policy_ids = list(result.diagnostics.reasons)
        errors = result.diagnostics.errors
        if errors:
            return Decision(False, policy_ids, f"policy evaluation failed, so the call is denied: {errors[0]}")
        if result.decision == cedarpy.Decision.Allow:
            return Decision(True, policy_ids, "allowed by " + ", ".join(policy_ids))
        if policy_ids:
            if all(p in self._approval_ids for p in policy_ids):
                return Decision(False, policy_ids, "needs a human approval: " + ", ".join(policy_ids), True)
            return Decision(False, policy_ids, "forbidden by " + ", ".join(policy_ids))
        return Decision(
            False, [], f"no policy lets agent {request.agent!r} {request.action} {request.tool} (deny by default)"
        )

    def _read_context(self, request: PolicyRequest) -> dict[str, Any]:
        """The call context cut to what the policies read."""
        context = self._context(request)
        if self._context_keys is None:
            return context
        return {key: value for key, value in context.items() if key in self._context_keys}

    @staticmethod
    def _context(request: PolicyRequest) -> dict[str, Any]:
        if request.action == "list":
            return {}
        context: dict[str, Any] = {
            "conversation_id": request.conversation_id,
            "channel": request.channel,
            "customer_scoped": request.customer_scoped,
            "customer_verified": request.customer_verified,
            "assurance": request.assurance,
            "customer_id": request.customer_id,
            "consent_purposes": list(request.consent_purposes),
            "fraud_hold": request.fraud_hold,
            "approved": request.approved,
            "hour_utc": request.hour_utc,
        }
        if request.open_support_cases is not None:
            context["open_support_cases"] = request.open_support_cases
        if request.amount is not None:
            context["amount"] = _decimal(request.amount)
        if request.charge_refundable is not None:
            context["charge_refundable"] = request.charge_refundable
        if request.refunds_today is not None:
            context["refunds_today"] = _decimal(request.refunds_today)
        if request.daily_refund_limit is not None:
            context["daily_refund_limit"] = _decimal(request.daily_refund_limit)
        return context

    def check_context_shape(self) -> None:
        """Evaluate one sample call *with* the schema so a context/schema drift fails start-up."""
        one = Decimal("1.0000")
        sample = PolicyRequest(
            agent="_",
            tool="_._",
            amount=one,
            open_support_cases=0,
            charge_refundable=True,
            refunds_today=one,
            daily_refund_limit=one,
        )
        saved = self._entities
        self.set_tools([ToolFacts("_._", "_", read_only=False, customer_scoped=True)])
        entities = self._entities
        self._set_entities(saved)
        result = cedarpy.is_authorized(
            {
                "principal": {"type": "Agent", "id": sample.agent},
                "action": {"type": "Action", "id": "call"},
                "resource": {"type": "Tool", "id": sample.tool},
                "context": self._context(sample),
            },
            self._enforced,
            entities,
            self._schema,
        )
        if result.diagnostics.errors:
            raise ConfigurationError(
                f"the gateway's call context does not match {SCHEMA_FILE}: {result.diagnostics.errors[0]}"
            )


def _decimal(value: Decimal) -> dict[str, Any]:
    return {"__extn": {"fn": "decimal", "arg": f"{value:.4f}"}}


def _context_attributes(policies: Iterable[dict[str, Any]]) -> frozenset[str] | None:
    """The ``context`` attributes the policies' conditions read (``context.x``, ``context has x``).

    None when some policy uses ``context`` other than through an attribute, e.g. compares it whole.
    """
    found: set[str] = set()
    whole = False

    def walk(node: Any) -> None:
        nonlocal whole
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("Var") == "context":
                whole = True
                return
            for op in (".", "has"):
                access = node.get(op)
                if isinstance(access, dict) and access.get("left") == {"Var": "context"}:
                    found.add(access["attr"])
                    return
            for value in node.values():
                walk(value)

    for policy in policies:
        walk(policy.get("conditions") or [])
    return None if whole else frozenset(found)


def _policy_set(policies: dict[str, dict[str, Any]]) -> cedarpy.PolicySet:
    """A policy set keyed by @id, so Cedar's reasons are the ids the audit log records."""
    return cedarpy.PolicySet.from_json_str(
        json.dumps({"staticPolicies": policies, "templates": {}, "templateLinks": []})
    )
