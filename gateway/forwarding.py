"""The upstream round trip of an authorized call, and the outcome record that closes it.

Invariant: only a call whose "allow" record is committed (a ``Verdict`` from ``authorize``)
comes here; its outcome record cites that decision.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult

from gateway.audit_links import MAX_LINKS, UNATTRIBUTED_SQL
from gateway.call import Verdict
from gateway.redact import mask_text
from gateway.tool_results import AUDIT_META_KEY, customer_named, first_text, outside_schema_result, unavailable_result
from gateway.upstream import UpstreamUnavailable
from shared import telemetry
from shared.deadline import MIN_WAIT_SECONDS
from shared.mcp_calls import ResultOutsideSchema
from shared.tools import retry_safe

if TYPE_CHECKING:
    from gateway.gateway import Gateway

_OUTCOME_COPIED = ("agent", "caller", "tool", "conversation_id", "trace_id", "arguments", "arguments_digest")


async def forward(gateway: Gateway, verdict: Verdict, arguments: dict[str, Any]) -> CallToolResult:
    """Make an authorized call upstream and record its outcome (the intent record exists)."""
    tool, decided = verdict.tool, verdict.record
    assert tool is not None
    started = time.perf_counter()
    # A write to a system whose facts the gateway projects: read that system live until its
    # feed shows the write, so the next call is decided on it (consent withdrawn, then marketing).
    projection = gateway.projection
    written = projection.writing(tool.system) if projection and not tool.facts.read_only else None
    left = None if verdict.deadline_at is None else verdict.deadline_at - time.time()
    try:
        if left is not None and left < MIN_WAIT_SECONDS:
            # The agent has stopped waiting: a call sent now would act after the customer was told.
            raise UpstreamUnavailable(tool.system, "not sent: the turn's deadline passed")
        with telemetry.span(f"governance.forward {tool.name}") as span:
            result = await gateway.links[tool.system].call(
                tool.upstream_name,
                arguments,
                verdict.upstream_meta,
                retry=retry_safe(tool.tool, arguments),
                timeout=left,
            )
            outcome = f"error: {mask_text(first_text(result))[:300]}" if result.is_error else "ok"
            if span is not None:
                span.set_attributes({"switchboard.system": tool.system, "switchboard.tool.outcome": outcome[:200]})
    except UpstreamUnavailable as exc:
        read_only = tool.facts.read_only
        result = unavailable_result(tool.system, decided.id, maybe_sent=exc.maybe_sent, read_only=read_only)
        outcome = f"error: {tool.system} unavailable ({mask_text(str(exc.detail))})"
    except ResultOutsideSchema as exc:
        # The system answered, so a write was carried out; what it said cannot be passed on.
        result = outside_schema_result(tool.system, decided.id, read_only=tool.facts.read_only)
        outcome = f"error: {tool.system} answered outside the tool's output schema ({mask_text(exc.detail)[:300]})"
    finally:
        if written is not None:
            written()
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    # A call made before the customer was known (an identity look-up or verification) names
    # them in its outcome, from the system of record's answer: subject access finds it.
    learned = None if decided.customer_id or result.is_error else customer_named(result)
    if learned and projection is not None:
        # The customer's own calls come next (a verification is followed by the goal it unlocked).
        projection.warm_consent(learned, decided.conversation_id or "")
    links = await _unattributed(gateway, decided.conversation_id) if learned else None
    await gateway.store.append(
        kind="outcome",
        decision=decided.decision,
        approver=decided.approver,
        policy_ids=decided.policy_ids,
        reason=f"outcome of {decided.id}",
        outcome=outcome,
        latency_ms=latency_ms,
        **{k: getattr(decided, k) for k in _OUTCOME_COPIED},
        customer_id=decided.customer_id or learned,
        links=links,
    )
    return result.model_copy(update={"meta": {**(result.meta or {}), AUDIT_META_KEY: decided.id}})


async def _unattributed(gateway: Gateway, conversation_id: str | None) -> list[int] | None:
    """This conversation's records made before the customer was known: the outcome naming them links these."""
    if not conversation_id:
        return None
    rows = await gateway.store.fetch(UNATTRIBUTED_SQL, (conversation_id, conversation_id, MAX_LINKS))
    return [int(r[0]) for r in rows] or None
