"""Holding a call for a person: one pending approval per call, however often it is delivered.

A duplicate delivery of a call already pending, executed or rejected finds that approval
instead of asking a person again; approvals are rate-limited per conversation so an agent
cannot flood approvers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_types import CallToolResult, TextContent

from gateway.approvals import EXECUTED, PENDING, REJECTED, Approval, insert_statement, new_id
from gateway.call import Call, Verdict
from gateway.policy_interface import Decision
from gateway.tool_results import APPROVAL_PREFIX, tool_error
from shared.audit import canonical_json, digest

if TYPE_CHECKING:
    from gateway.approval_flow import ApprovalDesk


async def hold(desk: ApprovalDesk, call: Call, decision: Decision) -> Verdict:
    """A pending approval for ``call`` (or the one a duplicate delivery already has), and the held result."""
    store = desk.gateway.store
    envelope = call.envelope
    assert envelope is not None
    args_digest = digest(call.arguments)
    now = desk.clock()
    for prior in await desk.approvals.for_binding(call.agent, call.name, args_digest, envelope.conversation_id):
        if prior.status == PENDING and prior.expires_at > now:
            record = await store.append(
                kind="decision",
                decision="approval-required",
                policy_ids=decision.policy_ids,
                reason=f"duplicate delivery: still waiting for approval {prior.id}",
                raw_arguments=call.arguments,
                **call.audit_fields(),
            )
            return Verdict(False, record, result=held_result(prior, record.id))
        if prior.status == EXECUTED:
            record = await store.append(
                kind="decision",
                decision="allow",  # the one "approved" record is the person's, under prior.id
                policy_ids=decision.policy_ids,
                reason=f"duplicate delivery: already approved and executed under {prior.id}; not sent again",
                approver=prior.decided_by,
                raw_arguments=call.arguments,
                **call.audit_fields(),
            )
            result = CallToolResult(
                content=[TextContent(type="text", text=canonical_json(prior.result or {}).decode())],
                structured_content=prior.result or {},
                _meta={"switchboard/audit_id": record.id, "switchboard/approval_id": prior.id},
            )
            return Verdict(False, record, result=result)
        if prior.status == REJECTED:
            # The same call (same arguments and idempotency key) a person already said no to:
            # refused, not put to an approver again. A new request from the customer has a new key.
            record = await store.append(
                kind="decision",
                decision="deny",
                policy_ids=decision.policy_ids,
                reason=f"duplicate delivery: rejected by a person under {prior.id}; not asked again",
                raw_arguments=call.arguments,
                **call.audit_fields(),
            )
            refusal = {"kind": "denied", "reason": record.reason, "policy_ids": [], "audit_id": record.id}
            return Verdict(False, record, result=tool_error(f"DENIED: {record.reason}", record.id, refusal))
    if await desk.approvals.count_recent(envelope.conversation_id, now - 3600) >= desk.max_per_conversation:
        record = await store.append(
            kind="decision",
            decision="deny",
            policy_ids=["rate-limit:approvals"],
            reason=f"too many approval requests: at most {desk.max_per_conversation} per conversation per hour; "
            "hand the customer to a human instead",
            raw_arguments=call.arguments,
            **call.audit_fields(),
        )
        refusal = {"kind": "denied", "reason": record.reason, "policy_ids": [], "audit_id": record.id}
        return Verdict(False, record, result=tool_error(f"DENIED: {record.reason}", record.id, refusal))
    approval = Approval(
        id=new_id(),
        status=PENDING,
        agent=call.agent,
        tool=call.name,
        arguments=call.arguments,
        arguments_digest=args_digest,
        conversation_id=envelope.conversation_id,
        customer_id=call.claims.sub if call.claims else None,
        envelope=envelope.model_dump_json(),
        policy_ids=decision.policy_ids,
        reason=decision.reason,
        request_audit_id="",
        created_at=now,
        expires_at=now + desk.ttl,
    )
    fields = call.audit_fields()
    # The record id is not known before append; bind the approval to the record through
    # its reason text and store the id right after (both are in the one transaction below).
    record = await store.append(
        kind="decision",
        decision="approval-required",
        policy_ids=decision.policy_ids,
        reason=f"{decision.reason}; approval {approval.id} requested",
        raw_arguments=call.arguments,
        also=(insert_statement(approval),),
        **fields,
    )
    await store.run((("UPDATE approvals SET request_audit_id = ? WHERE id = ?", (record.id, approval.id)),))
    return Verdict(False, record, result=held_result(approval, record.id))


def held_result(approval: Approval, audit_id: str) -> CallToolResult:
    return tool_error(
        f"{APPROVAL_PREFIX} {approval.id} a member of staff must approve this call ({approval.reason}); "
        "tell the customer it is waiting for approval — the gateway runs it once approved",
        audit_id,
        {
            "kind": "approval",
            "approval_id": approval.id,
            "status": "pending_approval",
            "expires_at": approval.expires_at,
            "policy_ids": approval.policy_ids,
            "audit_id": audit_id,
        },
    )
