"""The Cedar policy engine: a policy folder parsed once, decisions on the parsed set.

What the annotations and modes mean is described in ``gateway.policy``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import cedarpy

from gateway.policy_context import call_context, tool_entities
from gateway.policy_files import (
    APPROVAL_ANNOTATION,
    SCHEMA_FILE,
    TRIAL_ANNOTATION,
    PolicySource,
    args_read,
    cedar_schema,
    context_attributes,
    may_apply,
    policy_set,
    read_policies,
    validate,
    where,
)
from gateway.policy_interface import MODES, Decision, PolicyRequest, ToolFacts
from gateway.tool_args import ArgSchema, merge
from shared.errors import ConfigurationError

logger = logging.getLogger(__name__)

DECISION_CACHE_SIZE = 4096
"""Distinct questions remembered. The context holds only what policies read (assurance, consent,
flags, amounts), so a deployment asks few distinct questions; a full cache starts again empty."""


class CedarPolicyEngine:
    """Cedar policies from a folder: ``schema.cedarschema`` plus every ``*.cedar`` file.

    The schema's ``ToolArgs`` type is not in the file: it is derived from the catalog tools'
    input schemas (``gateway.tool_args``) each time the tools are set.
    """

    def __init__(
        self, policies: dict[str, dict[str, Any]], schema_text: str, sources: list[PolicySource], policy_dir: Path
    ) -> None:
        self.policy_dir = policy_dir
        self._adopt(policies, schema_text, sources, modes={})

    def _adopt(
        self,
        policies: dict[str, dict[str, Any]],
        schema_text: str,
        sources: list[PolicySource],
        modes: Mapping[str, str],
    ) -> None:
        self._policies_json = policies
        self._schema_text = schema_text
        self._sources = sources
        self.files = [s.path for s in sources]
        self._args = ArgSchema()
        self._tools: list[ToolFacts] = []
        self._tool_args: dict[str, tuple[str, ...]] = {}
        self._declared: dict[str, set[str]] = {}
        """Every argument each tool has declared since these policies were loaded."""
        self._drifted: dict[str, str] = {}
        """Tools that stopped declaring an argument a policy reads, and why their calls are denied."""
        self._schema = cedar_schema(schema_text, self._args)
        self._set_entities(cedarpy.Entities.from_json_str("[]", self._schema))
        self._approval_ids = frozenset(
            pid for pid, p in policies.items() if (p.get("annotations") or {}).get(APPROVAL_ANNOTATION) == "required"
        )
        self._modes: dict[str, str] = {pid: modes.get(pid, "enforce") for pid in policies}
        # Cedar parses every context attribute on every call (~5 µs each, ~20 µs for a decimal),
        # so a call sends only the attributes some policy reads; None means a policy reads it whole.
        self._context_keys = context_attributes(policies.values())
        self._arg_reads = {pid: args_read(p) for pid, p in policies.items()}
        self._rebuild()

    def _rebuild(self) -> None:
        """The enforced set, and the full set only while some policy is log-only (else no extra work)."""
        self._decided: dict[tuple[str, str, str, str], Decision] = {}
        enforced = {pid: p for pid, p in self._policies_json.items() if self._modes[pid] == "enforce"}
        self._enforced = policy_set(enforced)
        shadowed = len(enforced) != len(self._policies_json)
        self._full = policy_set(self._policies_json) if shadowed else None

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

    def definitions(self) -> dict[str, dict[str, Any]]:
        return dict(self._policies_json)

    def snapshot(self) -> CedarPolicyEngine:
        copy = CedarPolicyEngine(self._policies_json, self._schema_text, self._sources, self.policy_dir)
        copy.set_tools(list(self._tools))
        return copy

    def set_mode(self, policy_id: str, mode: str) -> None:
        """Switch one policy between ``enforce`` and ``log-only``; raises KeyError/ValueError."""
        if policy_id not in self._policies_json:
            raise KeyError(policy_id)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self._modes[policy_id] = mode
        self._rebuild()

    def where(self, policy_id: str) -> str:
        """``file:line`` of a policy, for people reading a decision."""
        for source in self._sources:
            located = where(source.path, source.text, policy_id)
            if located != str(source.path):
                return located
        return policy_id

    @classmethod
    def load(cls, policy_dir: Path) -> CedarPolicyEngine:
        """Parse and validate every file; a mistake raises ConfigurationError naming file and line.

        Policies that read ``context.args`` are checked against the tools' arguments once the
        tools are known (``check_arguments``); everything else is checked here.
        """
        policies, schema_text, sources = read_policies(policy_dir)
        return cls(policies, schema_text, sources, policy_dir)

    def reload(self) -> None:
        """Read the policy folder again and switch to it only if it is valid for the current tools.

        Raises ConfigurationError (and keeps the old set) when a file or policy is wrong.
        """
        self.adopt(self.load_fresh())

    def load_fresh(self) -> CedarPolicyEngine:
        """The policy folder as it is now, checked against the current tools; this engine is untouched.

        Reads files: run it off the event loop. Raises ConfigurationError naming file and line.
        """
        fresh = CedarPolicyEngine.load(self.policy_dir)
        fresh.set_tools(list(self._tools))
        fresh.check_arguments()
        fresh.check_context_shape()
        return fresh

    def adopt(self, fresh: CedarPolicyEngine) -> None:
        """Switch to a checked policy set; modes set at run time stay with the policies still there."""
        self._adopt(fresh._policies_json, fresh._schema_text, fresh._sources, self._modes)
        self.set_tools(fresh._tools)

    def set_tools(self, tools: Iterable[ToolFacts]) -> None:
        """Rebuild the entity graph (tools and their systems) and the ``ToolArgs`` type.

        Called when an upstream is listed; a listing never raises here, ``check_arguments`` does.
        """
        tools = list(tools)
        self._tools = tools
        args = merge((t.name, t.arguments) for t in tools)
        if args != self._args:
            try:
                self._schema = cedar_schema(self._schema_text, args)
            except ValueError as exc:
                # A listing must not take the catalog down: without the arguments, policies reading
                # them fail check_arguments and a tool that loses one is denied (_follow_drift).
                logger.error("the tools' arguments do not make a Cedar schema, so policies cannot read them: %s", exc)
                args = ArgSchema()
                self._schema = cedar_schema(self._schema_text, args)
            self._args = args
        self._tool_args = {t.name: tuple(n for n in t.arguments if n in args.types) for t in tools}
        self._set_entities(tool_entities(tools, self._schema))
        self._follow_drift(tools)

    def _follow_drift(self, tools: list[ToolFacts]) -> None:
        """Fail closed when a relisted tool drops an argument policies read.

        Such a policy (``context.args has x && …``) would silently stop matching, which for an
        approval or a guard means letting calls through; the tool's calls are denied instead
        until its argument is back or the policies are reloaded for the new schema.
        """
        drifted = {}
        for tool in tools:
            declared = self._declared.setdefault(tool.name, set())
            read = {
                name
                for pid, names in self._arg_reads.items()
                if may_apply(self._policies_json[pid], tool)
                for name in names
            }
            lost = sorted((declared - set(tool.arguments)) & read)
            if lost:
                drifted[tool.name] = (
                    f"{tool.name} no longer declares {', '.join(lost)}, which policies read, so its calls are "
                    "denied until the argument is back or the policies are reloaded for the new schema"
                )
            declared |= set(tool.arguments)
        for name in drifted.keys() - self._drifted.keys():
            logger.error("%s", drifted[name])
        self._drifted = drifted

    def check_arguments(self) -> None:
        """Every policy against the schema derived from the current tools (call once all are listed).

        A policy reading ``context.args.x`` that no tool declares fails here: Cedar's validator
        alone would accept ``context.args has x && …`` as simply never true.
        """
        for pid, names in self._arg_reads.items():
            for name in sorted(names):
                if name not in self._args.types:
                    raise ConfigurationError(
                        f"{self.where(pid)}: policy {pid!r} reads context.args.{name}, but {self._args.why_not(name)}",
                        hint="name an argument from the tool's input schema (switchboard policy check lists them)",
                    )
        for source in self._sources:
            validate(source, self._schema, deferred=frozenset())

    def _set_entities(self, entities: cedarpy.Entities) -> None:
        self._entities = entities
        # A decision is a pure function of the question, the policy set and the entities: a
        # remembered one holds until either changes (here, or ``_rebuild`` for the policies).
        self._decided = {}

    def decide(self, request: PolicyRequest) -> Decision:
        if request.action == "call" and request.tool in self._drifted:
            return Decision(False, [], self._drifted[request.tool])
        try:
            context = json.dumps(self._read_context(request))
        except ValueError as exc:
            return Decision(False, [], str(exc))
        # The same question gets the same answer until the policies, their modes or the tools
        # change; evaluating it again was about 7% of the CPU of the gateway and systems process.
        key = (request.action, request.agent, request.tool, context)
        known = self._decided.get(key)
        if known is None:
            known = self._decide(request, context)
            if len(self._decided) >= DECISION_CACHE_SIZE:
                self._decided.clear()
            self._decided[key] = known
        return replace(known, policy_ids=list(known.policy_ids))

    def _decide(self, request: PolicyRequest, context: str) -> Decision:
        cedar_request = {
            "principal": {"type": "Agent", "id": request.agent},
            "action": {"type": "Action", "id": request.action},
            "resource": {"type": "Tool", "id": request.tool},
            "context": context,
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
                # Hold only a call an approval would let through: else a human is asked for nothing.
                context = {**json.loads(cedar_request["context"]), "approved": True}
                once = self._evaluate({**cedar_request, "context": json.dumps(context)}, policies, request)
                if not once.allowed:
                    return Decision(False, once.policy_ids, once.reason + " (an approval would not change that)")
                return Decision(False, policy_ids, "needs a human approval: " + ", ".join(policy_ids), True)
            return Decision(False, policy_ids, "forbidden by " + ", ".join(policy_ids))
        return Decision(
            False, [], f"no policy lets agent {request.agent!r} {request.action} {request.tool} (deny by default)"
        )

    def _read_context(self, request: PolicyRequest) -> dict[str, Any]:
        """The call context cut to what the policies read; ValueError for an ill-typed argument."""
        keys = self._context_keys
        context = self._context(request, with_args=keys is None or "args" in keys)
        if keys is None:
            return context
        return {key: value for key, value in context.items() if key in keys}

    def _context(self, request: PolicyRequest, *, with_args: bool = True) -> dict[str, Any]:
        return call_context(request, self._tool_args.get(request.tool, ()), self._args, with_args=with_args)

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
        entities = tool_entities([ToolFacts("_._", "_", read_only=False, customer_scoped=True)], self._schema)
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
