"""The per-call pipeline: authorize, record, forward, record the outcome.

``authorize`` is everything the gateway decides on its own (envelope, auth context,
customer binding, policy, durable decision record) and touches no network unless a
system was never reached yet; ``call_tool`` adds the upstream round trip.
Invariant: a call reaches an upstream only after its "allow" record is committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult

from gateway.audit_store import AuditStore, AuditUnavailable
from gateway.call import APPROVAL_META_KEY, MAX_NAME, UNKNOWN_AGENT, Call, Verdict, parse_envelope
from gateway.catalog import Catalog, CatalogTool
from gateway.facts import CallFacts, CustomerFacts, FactUnavailable, read_call_facts
from gateway.forwarding import forward
from gateway.open_cases import OpenCaseReader
from gateway.policy_interface import Decision, PolicyEngine, PolicyRequest, cedar_amount
from gateway.projection import GatewayProjection
from gateway.ratelimit import RateLimiter
from gateway.state import GovernanceState
from gateway.step_scope import step_refusal
from gateway.subject import CONVERSATION_SUBJECT, bind_subject
from gateway.tool_results import decision_attributes, denied_result, unavailable_result
from gateway.upstream import UpstreamLink, UpstreamUnavailable
from shared import telemetry
from shared.authcontext import AuthContextVerifier
from shared.errors import AuthContextInvalid
from shared.skill_steps import StepGrants
from shared.tools import CALL_META_KEY, CallContext, split_catalog_name
from shared.tracing import TRACEPARENT

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk
    from gateway.approvals import Approval
    from gateway.audit_store_pg import PostgresAuditStore
    from gateway.retention import AuditRetention
    from gateway.weakening import WeakeningDesk

logger = logging.getLogger(__name__)

DEFAULT_DAILY_REFUND_LIMIT = Decimal("100.00")
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

    async def _deny(self, call: Call, reason: str, policy_ids: list[str] | None = None) -> Verdict:
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
        call = Call(agent, name, dict(arguments or {}), caller=caller)
        envelope_error = None
        try:
            call.envelope = parse_envelope(meta)
        except ValueError as exc:
            envelope_error = str(exc)
        tool = await self._lookup(name)
        if isinstance(tool, UpstreamUnavailable):
            record = await self.store.append(
                kind="decision",
                decision="deny",
                policy_ids=[],
                reason=f"upstream unavailable: {tool.detail}",
                outcome=f"error: {tool.system} unavailable",
                **call.audit_fields(),
            )
            result = unavailable_result(tool.system, record.id, maybe_sent=False, read_only=True)
            return Verdict(False, record, result=result)
        if tool is None:
            return await self._deny(call, f"unknown tool {name[:MAX_NAME]!r}: list the tools this agent may call")
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
                telemetry.set_attributes(span, decision_attributes(verdict.record))
        if verdict.result is not None:
            return verdict.result
        return await self.forward(verdict, dict(arguments or {}))

    async def forward(self, verdict: Verdict, arguments: dict[str, Any]) -> CallToolResult:
        """Make an authorized call upstream and record its outcome (the intent record exists)."""
        return await forward(self, verdict, arguments)

    async def _record_failure(self, agent: str, name: str, exc: Exception) -> None:
        """Deciding failed (audit store, facts): the call is not made; record that if the store lets us."""
        if isinstance(exc, AuditUnavailable):
            logger.error("audit store unavailable, %s denied unrecorded: %s", name[:MAX_NAME], exc)
            return  # it just said it cannot record; asking again would only keep the caller waiting
        try:
            await self.record_refused(agent, name, f"the gateway failed deciding ({type(exc).__name__}); not sent")
        except Exception:
            logger.exception("the deny record for %s could not be written either", name[:MAX_NAME])

    async def record_refused(self, agent: str, name: str, reason: str) -> None:
        """Audit a request refused before it could be decided (oversized, malformed)."""
        await self._deny(Call(agent, name or "<unreadable>", {}), reason)

    async def record_unauthenticated(
        self, name: str, arguments: Any, meta: Any, caller: str = UNKNOWN_AGENT, why: str = ""
    ) -> None:
        """Audit a tools/call whose caller presented no valid agent token (``caller``: who it claimed to be)."""
        call = Call(caller, str(name), arguments if isinstance(arguments, dict) else {})
        try:
            call.envelope = parse_envelope(meta if isinstance(meta, dict) else None)
        except ValueError:
            call.envelope = None
        await self._deny(
            call,
            f"the caller presented no valid agent token: {why}" if why else "the caller presented no valid agent token",
        )
