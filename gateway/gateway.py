"""The per-call pipeline: authorize, record, forward, record the outcome.

``authorize`` is everything the gateway decides on its own (envelope, auth context,
customer binding, policy, durable decision record) and touches no network unless a
system was never reached yet; ``call_tool`` adds the upstream round trip.
Invariant: a call reaches an upstream only after its "allow" record is committed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from gateway.audit_links import MAX_LINKS, UNATTRIBUTED_SQL
from gateway.audit_store import AuditStore, AuditUnavailable
from gateway.catalog import Catalog, CatalogTool
from gateway.facts import CallFacts, CustomerFacts, FactUnavailable, read_call_facts
from gateway.open_cases import OpenCaseReader
from gateway.policy import Decision, PolicyEngine, PolicyRequest, cedar_amount
from gateway.projection import GatewayProjection
from gateway.ratelimit import RateLimiter
from gateway.redact import mask_text, redact
from gateway.state import GovernanceState
from gateway.step_scope import step_refusal
from gateway.subject import CONVERSATION_SUBJECT, bind_subject
from gateway.upstream import UpstreamLink, UpstreamUnavailable

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.approvals import Approval
    from gateway.audit_store_pg import PostgresAuditStore
    from gateway.retention import AuditRetention
    from gateway.weakening import WeakeningDesk
from shared import telemetry
from shared.audit import AuditRecord, digest
from shared.authcontext import AuthContextVerifier
from shared.deadline import MIN_WAIT_SECONDS
from shared.envelope import ENVELOPE_META_KEY, AuthClaims, ContextEnvelope
from shared.errors import AuthContextInvalid
from shared.skill_steps import StepGrants
from shared.tools import CALL_META_KEY, REFUSAL_META_KEY, CallContext, retry_safe, split_catalog_name
from shared.tracing import TRACEPARENT

logger = logging.getLogger(__name__)

AUDIT_META_KEY = "switchboard/audit_id"
"""Result ``_meta``: the id of the decision record, so agents can cite it."""

APPROVAL_META_KEY = "switchboard/approval_id"
"""Request ``_meta``: an approval id an agent presents with a call (always checked, never trusted)."""

DENIED_PREFIX = "DENIED:"
APPROVAL_PREFIX = "APPROVAL_REQUIRED:"
UNKNOWN_AGENT = "unknown"
_MAX_NAME = 200
DEFAULT_DAILY_REFUND_LIMIT = Decimal("100.00")


@dataclass(slots=True)
class Verdict:
    """The outcome of ``authorize``; ``result`` is set when the call must not be forwarded."""

    allowed: bool
    record: AuditRecord
    tool: CatalogTool | None = None
    upstream_meta: dict[str, Any] = field(default_factory=dict)
    result: CallToolResult | None = None
    deadline_at: float | None = None
    """The customer's turn deadline (Unix time); never set for a call a human approved later."""


def _tool_error(text: str, audit_id: str, details: dict[str, Any]) -> CallToolResult:
    """A refusal every MCP client can read: a tool error whose text says why.

    The details go in ``_meta`` (never ``structuredContent``, which clients check against the
    tool's output schema and which a refusal cannot match).
    """
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        is_error=True,
        _meta={AUDIT_META_KEY: audit_id, REFUSAL_META_KEY: details},
    )


def denied_result(record: AuditRecord) -> CallToolResult:
    ids = f" (policy: {', '.join(record.policy_ids)})" if record.policy_ids else ""
    return _tool_error(
        f"{DENIED_PREFIX} {record.reason}{ids}",
        record.id,
        {"kind": "denied", "reason": record.reason, "policy_ids": record.policy_ids, "audit_id": record.id},
    )


def unavailable_sentence(system: str, *, maybe_sent: bool, read_only: bool) -> str:
    if maybe_sent and not read_only:
        return (
            f"the {system} system did not answer in time; the action may or may not have been carried out — "
            "check before retrying (retry with the same idempotency_key) or ask for a human"
        )
    return f"the {system} system is not answering right now; nothing was changed — try again or ask for a human"


@dataclass(slots=True)
class _Call:
    """What is known about one call while it is being decided."""

    agent: str
    name: str
    arguments: dict[str, Any]
    envelope: ContextEnvelope | None = None
    claims: AuthClaims | None = None
    caller: str | None = None
    """The authenticated A2A caller the agent acts for (verified by the app from its token)."""

    def audit_fields(self) -> dict[str, Any]:
        env = self.envelope
        return {
            "agent": self.agent,
            "caller": self.caller,
            "tool": self.name[:_MAX_NAME],
            "conversation_id": env.conversation_id if env else None,
            "trace_id": env.trace.trace_id if env else None,
            "customer_id": self.claims.sub if self.claims else None,
            "arguments": redact(self.arguments),
            "arguments_digest": digest(self.arguments),
        }


def parse_envelope(meta: dict[str, Any] | None) -> ContextEnvelope:
    """The envelope from request ``_meta``; raises ValueError with what to fix."""
    raw = (meta or {}).get(ENVELOPE_META_KEY)
    if raw is None:
        raise ValueError(f"the call carries no context envelope; send it as _meta[{ENVELOPE_META_KEY!r}]")
    if not isinstance(raw, str):
        raise ValueError(f"_meta[{ENVELOPE_META_KEY!r}] must be the context envelope as a JSON string")
    try:
        return ContextEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "envelope"
        raise ValueError(f"the context envelope is malformed ({where}: {first.get('msg')})") from None


OPEN_CASE_POLICY = "guard.no-marketing-during-open-case"
FRAUD_HOLD_POLICY = "guard.fraud-hold-pauses-payments"
DEFAULT_SIM_SWAP_WINDOW_HOURS = 24


class Gateway:
    """Decides and forwards tool calls; one instance per gateway process."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        policy: PolicyEngine,
        verifier: AuthContextVerifier,
        store: AuditStore | PostgresAuditStore,
        links: dict[str, UpstreamLink],
        facts: CustomerFacts,
        state: GovernanceState | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        daily_refund_limit: Decimal = DEFAULT_DAILY_REFUND_LIMIT,
        steps: StepGrants | None = None,
        sim_swap_window_hours: int | None = None,
    ) -> None:
        self.daily_refund_limit = daily_refund_limit
        self.sim_swap_window_hours = sim_swap_window_hours
        """A SIM changed within this many hours pauses money-moving writes (None: no network system to ask)."""
        self.steps = steps if steps is not None else StepGrants.load()
        """Each skill's tools per step: a call that names its step may use only that step's tools."""
        self.catalog = catalog
        self.policy = policy
        self.verifier = verifier
        self.store = store
        self.links = links
        self.facts = facts
        self.state = state or GovernanceState()
        self.limiter = limiter or RateLimiter(limit=120, window_seconds=60.0)
        self.clock = clock
        self.desk: ApprovalDesk | None = None  # set by the app once the approval desk exists
        self.weakening: WeakeningDesk | None = None  # set by the app: four eyes on weakening a control
        self.retention: AuditRetention | None = None  # set by the app: how long audit data classes are kept
        self.open_cases: OpenCaseReader | None = None
        """Set by the app: every open case (tickets, escalations, approvals); without it, tickets only."""
        self.projection: GatewayProjection | None = None
        """Set by the app when ``facts`` is the projection: writes forwarded here hold it back."""

    async def _deny(self, call: _Call, reason: str, policy_ids: list[str] | None = None) -> Verdict:
        record = await self.store.append(
            kind="decision",
            decision="deny",
            policy_ids=policy_ids or [],
            reason=reason,
            raw_arguments=call.arguments,
            **call.audit_fields(),
        )
        return Verdict(False, record, result=denied_result(record))

    async def _lookup(self, name: str) -> CatalogTool | UpstreamUnavailable | None:
        tool = self.catalog.tools.get(name)
        if tool is not None:
            return tool
        link = self.links.get(split_catalog_name(name)[0])
        if link is None or link.up:
            return None
        try:
            await link.connect()
        except UpstreamUnavailable as exc:
            return exc
        return self.catalog.tools.get(name)

    def _refund_context(self, facts: CallFacts, amount: Decimal | None) -> dict[str, Any]:
        """The refund facts as policy reads them; empty (so policy holds the call) when unknown."""
        refund = facts.refund
        if refund is None or amount is None:
            return {}
        # What is left on the charge is enforced by the payments system itself, atomically with the
        # refund (and a retried refund with the same key must pass again), so policy leaves it out.
        return {
            "charge_refundable": refund.duplicate or refund.flagged_error,
            "refunds_today": Decimal(str(refund.refunded_today)) + amount,
            "daily_refund_limit": self.daily_refund_limit,
        }

    async def authorize(
        self,
        agent: str,
        name: str,
        arguments: dict[str, Any] | None,
        meta: dict[str, Any] | None,
        *,
        approval: Approval | None = None,
        caller: str | None = None,
    ) -> Verdict:
        """Decide one call and commit the decision record.

        Contacts no upstream except to read the facts policy needs (consent, open cases).
        ``approval`` is set only by the approval desk executing an approved call.
        """
        call = _Call(agent, name, dict(arguments or {}), caller=caller)
        envelope_error = None
        try:
            call.envelope = parse_envelope(meta)
        except ValueError as exc:
            envelope_error = str(exc)
        tool = await self._lookup(name)
        if isinstance(tool, UpstreamUnavailable):
            sentence = unavailable_sentence(tool.system, maybe_sent=False, read_only=True)
            record = await self.store.append(
                kind="decision",
                decision="deny",
                policy_ids=[],
                reason=f"upstream unavailable: {tool.detail}",
                outcome=f"error: {tool.system} unavailable",
                **call.audit_fields(),
            )
            result = _tool_error(
                sentence, record.id, {"kind": "unavailable", "system": tool.system, "audit_id": record.id}
            )
            return Verdict(False, record, result=result)
        if tool is None:
            return await self._deny(call, f"unknown tool {name[:_MAX_NAME]!r}: list the tools this agent may call")
        if tool.internal:
            return await self._deny(
                call, f"{tool.name} is internal to the {tool.system} system: no agent may call it", ["internal-tool"]
            )
        if envelope_error is not None:
            return await self._deny(call, envelope_error)
        assert call.envelope is not None
        envelope = call.envelope
        killed = self.state.killed(agent, tool.name)
        if killed is not None:
            return await self._deny(
                call,
                f"the kill switch is on ({killed}): no tool call passes until staff turn it off; "
                "offer the customer a human colleague",
                [f"kill-switch:{killed}"],
            )
        if approval is None:
            # An approved call was checked against its step when it was first made.
            out_of_step = step_refusal(self.steps, agent, tool.name, meta)
            if out_of_step is not None:
                return await self._deny(call, out_of_step, ["skill-step"])
        if approval is None and not self.limiter.allow(agent, envelope.conversation_id):
            return await self._deny(
                call,
                f"rate limited: more than {self.limiter.limit} tool calls in {self.limiter.window:g} s "
                "in this conversation; stop and hand the customer to a human",
                ["rate-limit"],
            )

        # A tool whose subject is the conversation gets its own, more specific check (bind_subject).
        named = call.arguments.get("conversation_id")
        about_conversation = tool.subject is not None and tool.subject.kind == CONVERSATION_SUBJECT
        if named is not None and named != envelope.conversation_id and not about_conversation:
            return await self._deny(
                call,
                "the call names another conversation than its envelope; "
                "an agent may act only in the conversation it was handed",
                ["conversation-binding"],
            )
        auth_error: AuthContextInvalid | None = None
        if envelope.auth_context:
            try:
                # An approved call is checked as of the request: the human approval is the new authority.
                at = approval.created_at if approval is not None else None
                call.claims = self.verifier.verify(
                    envelope.auth_context, now=at, conversation_id=envelope.conversation_id
                )
            except AuthContextInvalid as exc:
                auth_error = exc
        assert call.envelope is not None
        refused = bind_subject(tool, call.arguments, call.envelope.conversation_id, call.claims, auth_error)
        if refused is not None:
            return await self._deny(call, refused)

        amount: Decimal | None = None
        if "amount" in call.arguments and call.arguments["amount"] is not None:
            try:
                amount = cedar_amount(call.arguments["amount"])
            except ValueError as exc:
                return await self._deny(call, str(exc))
        claims = call.claims
        presented = (meta or {}).get(APPROVAL_META_KEY)
        if presented is not None and approval is None:
            return await self._deny(
                call,
                "an approval cannot be presented with a call: the gateway itself runs an approved call, "
                "exactly once; this one is refused (replayed, reused or altered approval)",
                ["approval-binding"],
            )
        customer_scoped = call.claims is not None and tool.subject is not None
        try:
            facts = await read_call_facts(
                self.facts,
                tool,
                claims,
                customer_scoped,
                call.arguments,
                envelope.conversation_id,
                self.open_cases,
                self.sim_swap_window_hours,
            )
        except FactUnavailable as exc:
            return await self._deny(call, f"a fact policy needs is unknown, so the call is denied: {exc}")
        try:
            decision = self.policy.decide(
                PolicyRequest(
                    agent=agent,
                    tool=tool.name,
                    conversation_id=envelope.conversation_id,
                    channel=envelope.channel,
                    customer_scoped=customer_scoped,
                    customer_verified=claims is not None,
                    assurance=claims.assurance if claims else "",
                    customer_id=claims.sub if claims else "",
                    consent_purposes=facts.consent,
                    amount=amount,
                    arguments=call.arguments,
                    # A recent SIM change in the network system counts as a hold even when no signal
                    # reported it: the swap is the takeover, the signal only its news.
                    fraud_hold=claims is not None
                    and (claims.sub in self.state.fraud_holds or facts.sim_changed_at is not None),
                    open_support_cases=facts.open_cases,
                    approved=approval is not None,
                    hour_utc=datetime.fromtimestamp(self.clock(), UTC).hour,
                    **self._refund_context(facts, amount),
                )
            )
        except Exception as exc:
            logger.exception("the policy engine failed")
            decision = Decision(False, [], f"the policy engine failed ({type(exc).__name__}), so the call is denied")
        if decision.approval_required:
            if self.desk is None:
                return await self._deny(call, "this call needs a human approval and no approval desk is configured")
            return await self.desk.request(call, tool, decision)
        if not decision.allowed:
            reason = decision.reason
            if facts.named_cases and OPEN_CASE_POLICY in decision.policy_ids:
                reason += f"; the customer has an open case: {', '.join(facts.named_cases[:5])}"
            if facts.sim_changed_at is not None and FRAUD_HOLD_POLICY in decision.policy_ids:
                reason += (
                    f"; SIM change on the line at {facts.sim_changed_at}, within the "
                    f"{self.sim_swap_window_hours} h window (network.check_sim_swap)"
                )
            return await self._deny(call, reason, decision.policy_ids)
        record = await self.store.append(
            kind="decision",
            # The person's "approved" record exists (``ApprovalDesk.approve``): running it is an allow
            # that cites it, so one approval is one "approved" record.
            decision="would-deny" if decision.would_deny else "allow",
            policy_ids=decision.policy_ids,
            reason=decision.reason
            if approval is None
            else f"{decision.reason}; runs approval {approval.id} approved by {approval.decided_by}",
            approver=approval.decided_by if approval is not None else None,
            raw_arguments=call.arguments,
            **call.audit_fields(),
        )
        call_context = CallContext(
            agent=agent,
            conversation_id=envelope.conversation_id,
            customer_id=claims.sub if claims else None,
            traceparent=(telemetry.trace_context() or envelope.trace.child()).traceparent,
            audit_id=record.id,
        )
        # The W3C keys let the MCP server join the trace; with tracing on the client overwrites them.
        upstream_meta = {CALL_META_KEY: call_context.model_dump(mode="json"), TRACEPARENT: call_context.traceparent}
        deadline_at = envelope.deadline_at if approval is None else None
        return Verdict(True, record, tool, upstream_meta=upstream_meta, deadline_at=deadline_at)

    async def call_tool(
        self,
        agent: str,
        name: str,
        arguments: dict[str, Any] | None,
        meta: dict[str, Any] | None,
        *,
        caller: str | None = None,
    ) -> CallToolResult:
        with telemetry.span("governance.decide") as span:
            try:
                verdict = await self.authorize(agent, name, arguments, meta, caller=caller)
            except Exception as exc:
                await self._record_failure(agent, name, exc)
                raise
            if span is not None:
                telemetry.set_attributes(span, _decision_attributes(verdict.record))
        if verdict.result is not None:
            return verdict.result
        return await self.forward(verdict, dict(arguments or {}))

    async def forward(self, verdict: Verdict, arguments: dict[str, Any]) -> CallToolResult:
        """Make an authorized call upstream and record its outcome (the intent record exists)."""
        tool, decided = verdict.tool, verdict.record
        assert tool is not None
        started = time.perf_counter()
        # A write to a system whose facts the gateway projects: read that system live until its
        # feed shows the write, so the next call is decided on it (consent withdrawn, then marketing).
        written = self.projection.writing(tool.system) if self.projection and not tool.facts.read_only else None
        left = None if verdict.deadline_at is None else verdict.deadline_at - time.time()
        try:
            if left is not None and left < MIN_WAIT_SECONDS:
                # The agent has stopped waiting: a call sent now would act after the customer was told.
                raise UpstreamUnavailable(tool.system, "not sent: the turn's deadline passed")
            with telemetry.span(f"governance.forward {tool.name}") as span:
                result = await self.links[tool.system].call(
                    tool.upstream_name,
                    arguments,
                    verdict.upstream_meta,
                    retry=retry_safe(tool.tool, arguments),
                    timeout=left,
                )
                outcome = f"error: {mask_text(_first_text(result))[:300]}" if result.is_error else "ok"
                if span is not None:
                    span.set_attributes({"switchboard.system": tool.system, "switchboard.tool.outcome": outcome[:200]})
        except UpstreamUnavailable as exc:
            read_only = tool.facts.read_only
            sentence = unavailable_sentence(tool.system, maybe_sent=exc.maybe_sent, read_only=read_only)
            result = _tool_error(
                sentence, decided.id, {"kind": "unavailable", "system": tool.system, "audit_id": decided.id}
            )
            outcome = f"error: {tool.system} unavailable ({mask_text(str(exc.detail))})"
        finally:
            if written is not None:
                written()
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        # A call made before the customer was known (an identity look-up or verification) names
        # them in its outcome, from the system of record's answer: subject access finds it.
        learned = None if decided.customer_id or result.is_error else _customer_named(result)
        links = await self._unattributed(decided.conversation_id) if learned else None
        await self.store.append(
            kind="outcome",
            decision=decided.decision,
            approver=decided.approver,
            policy_ids=decided.policy_ids,
            reason=f"outcome of {decided.id}",
            outcome=outcome,
            latency_ms=latency_ms,
            **{
                k: getattr(decided, k)
                for k in (
                    "agent",
                    "caller",
                    "tool",
                    "conversation_id",
                    "trace_id",
                    "arguments",
                    "arguments_digest",
                )
            },
            customer_id=decided.customer_id or learned,
            links=links,
        )
        return result.model_copy(update={"meta": {**(result.meta or {}), AUDIT_META_KEY: decided.id}})

    async def _unattributed(self, conversation_id: str | None) -> list[int] | None:
        """This conversation's records made before the customer was known: the outcome naming them links these."""
        if not conversation_id:
            return None
        rows = await self.store.fetch(UNATTRIBUTED_SQL, (conversation_id, conversation_id, MAX_LINKS))
        return [int(r[0]) for r in rows] or None

    async def _record_failure(self, agent: str, name: str, exc: Exception) -> None:
        """Deciding failed (audit store, facts): the call is not made; record that if the store lets us."""
        if isinstance(exc, AuditUnavailable):
            logger.error("audit store unavailable, %s denied unrecorded: %s", name[:_MAX_NAME], exc)
            return  # it just said it cannot record; asking again would only keep the caller waiting
        try:
            await self.record_refused(agent, name, f"the gateway failed deciding ({type(exc).__name__}); not sent")
        except Exception:
            logger.exception("the deny record for %s could not be written either", name[:_MAX_NAME])

    async def record_refused(self, agent: str, name: str, reason: str) -> None:
        """Audit a request refused before it could be decided (oversized, malformed)."""
        await self._deny(_Call(agent, name or "<unreadable>", {}), reason)

    async def record_unauthenticated(
        self, name: str, arguments: Any, meta: Any, caller: str = UNKNOWN_AGENT, why: str = ""
    ) -> None:
        """Audit a tools/call whose caller presented no valid agent token (``caller``: who it claimed to be)."""
        call = _Call(caller, str(name), arguments if isinstance(arguments, dict) else {})
        try:
            call.envelope = parse_envelope(meta if isinstance(meta, dict) else None)
        except ValueError:
            call.envelope = None
        await self._deny(
            call,
            f"the caller presented no valid agent token: {why}" if why else "the caller presented no valid agent token",
        )


def _decision_attributes(record: AuditRecord) -> dict[str, Any]:
    return {
        telemetry.AGENT_NAME: record.agent,
        telemetry.TOOL_NAME: record.tool,
        telemetry.CONVERSATION_ID: record.conversation_id,
        "switchboard.governance.decision": record.decision,
        "switchboard.governance.policy_ids": record.policy_ids,
        "switchboard.governance.reason": record.reason[:200],
        "switchboard.audit.id": record.id,
    }


_CUSTOMER_ID = re.compile(r"CUST-\d{1,12}")


def _customer_named(result: CallToolResult) -> str | None:
    """The unified customer id an upstream's answer names (``customer_id``, or ``customer.keys``)."""
    data = result.structured_content
    if not isinstance(data, dict):
        return None
    found = data.get("customer_id")
    customer = data.get("customer")
    if found is None and isinstance(customer, dict) and isinstance(customer.get("keys"), dict):
        found = customer["keys"].get("customer_id")
    return found if isinstance(found, str) and _CUSTOMER_ID.fullmatch(found) else None


def _first_text(result: CallToolResult) -> str:
    return next((c.text for c in result.content if isinstance(c, TextContent)), "")
