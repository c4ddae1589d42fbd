"""The approval desk: holding a call for a human, and running it exactly once when approved.

- ``request``: a call whose policy says approval-required becomes a pending approval (or, for
  a duplicate delivery of the same call, finds the one already there). Rate-limited per
  conversation, so an agent cannot flood approvers (``approval_hold``).
- ``approve`` / ``reject``: a person's decision, one chained record naming them, their note and
  the digest of what they saw (``oversight``). Approving then re-decides the call with
  ``context.approved`` (consent, holds and kill switches still apply) as an "allow" that cites
  the approval, forwards it with the same idempotency key, and records the outcome: one
  approval is one "approved" record.
- ``resume``: at start-up, an approval that was approved but not finished (a crash mid-way)
  runs again; the idempotency key makes the upstream answer with its first result.
- Every final state is sent to the orchestrator, retried until it answers, so the parked
  conversation continues (``approval_notify``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from mcp_types import TextContent

from gateway.approval_hold import hold
from gateway.approval_notify import notify_all
from gateway.approvals import (
    APPROVED,
    EXECUTED,
    EXPIRED,
    FAILED,
    PENDING,
    REJECTED,
    Approval,
    ApprovalStore,
    finish,
    transition,
)
from gateway.audit_store import StaleState
from gateway.call import Call, Verdict
from gateway.catalog import CatalogTool
from gateway.errors import ApprovalConflict, ApprovalGone
from gateway.oversight import oversight
from gateway.policy_interface import Decision
from shared.audit import Oversight, digest
from shared.envelope import ENVELOPE_META_KEY
from shared.errors import NotFound
from shared.service_auth.client import TokenSource
from shared.tls import client_tls

if TYPE_CHECKING:
    from gateway.gateway import Gateway

logger = logging.getLogger(__name__)

APPROVAL_CALLBACK_PATH = "/api/internal/approvals"


class ApprovalDesk:
    def __init__(
        self,
        gateway: Gateway,
        approvals: ApprovalStore,
        *,
        ttl_seconds: float = 900.0,
        max_per_conversation: int = 3,
        orchestrator_url: str | None = None,
        tokens: TokenSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gateway = gateway
        self.approvals = approvals
        self.ttl = ttl_seconds
        self.max_per_conversation = max_per_conversation
        self._callback = f"{orchestrator_url.rstrip('/')}{APPROVAL_CALLBACK_PATH}" if orchestrator_url else None
        self._tokens = tokens
        self.clock = clock
        self.wake = asyncio.Event()
        self._decide = asyncio.Lock()

    # ----- requests (hot path of a held call)

    async def request(self, call: Call, tool: CatalogTool, decision: Decision) -> Verdict:
        """Hold a call for a person (``approval_hold``)."""
        return await hold(self, call, decision)

    # ----- staff decisions

    async def get(self, approval_id: str) -> Approval:
        approval = await self.approvals.get(approval_id)
        if approval is None:
            raise NotFound(f"no approval {approval_id!r}", hint="list pending approvals with GET /governance/approvals")
        return approval

    async def approve(
        self,
        approval_id: str,
        staff: str,
        note: str | None = None,
        *,
        role: str = "approver",
        seen: str | None = None,
        shared_account: bool = False,
    ) -> Approval:
        """``staff`` approves: one chained "approved" record names them, their note and what they saw.

        ``seen`` is the ``view_digest`` of the approval as the person's screen showed it; when it
        no longer matches (the approval changed under them) nothing is decided.
        """
        async with self._decide:
            approval = await self._decidable(approval_id, staff, "approve")
            person = self._person("approve", approval, staff, role, note, seen, shared_account)
            await self._record_decision(approval, APPROVED, staff, note, "approved", f"approved by {staff}", person)
            approval = await self.get(approval_id)
        await self.execute(approval)
        return await self.get(approval_id)

    async def reject(
        self,
        approval_id: str,
        staff: str,
        note: str | None = None,
        *,
        why: str = "",
        role: str = "approver",
        seen: str | None = None,
        shared_account: bool = False,
    ) -> Approval:
        async with self._decide:
            approval = await self._decidable(approval_id, staff, "reject")
            reason = why or f"rejected by {staff}" + (f": {note}" if note else "")
            person = self._person("reject", approval, staff, role, note, seen, shared_account)
            await self._record_decision(approval, REJECTED, staff, note, "rejected", reason, person)
        self.wake.set()
        return await self.get(approval_id)

    @staticmethod
    def _person(
        action: str, approval: Approval, staff: str, role: str, note: str | None, seen: str | None, shared: bool
    ) -> Oversight:
        shown = approval.view_digest()
        if seen is not None and seen != shown:
            raise ApprovalConflict(
                f"approval {approval.id} is not what your screen showed: it changed since you loaded it",
                hint="reload the approval, check it again, then decide",
            )
        return oversight(action, staff, role, approval.id, shown, note, shared_account=shared)

    async def _decidable(self, approval_id: str, staff: str, verb: str) -> Approval:
        approval = await self.get(approval_id)
        if approval.status != PENDING:
            by = f" by {approval.decided_by}" if approval.decided_by else ""
            await self._refusal(
                approval,
                staff,
                f"{verb} attempt refused: approval {approval.id} was already decided{by} ({approval.status})",
            )
            raise ApprovalConflict(
                f"approval {approval.id} was already decided{by}: it is {approval.status}; an approval is decided once",
                hint="nothing more to do on it: tell the customer the outcome, or pick another pending approval",
            )
        if approval.expires_at <= self.clock():
            await self._record_decision(approval, EXPIRED, None, None, "rejected", f"approval {approval.id} expired")
            await self._refusal(approval, staff, f"{verb} refused: approval {approval.id} had expired")
            self.wake.set()
            raise ApprovalGone(
                f"approval {approval.id} expired before it was decided; nothing was done",
                hint="the agent may ask again if the customer still wants it",
            )
        if staff == approval.agent:
            await self._refusal(approval, staff, "the requester may not decide its own approval")
            raise ApprovalConflict("the requester may not decide its own approval")
        return approval

    async def _refusal(self, approval: Approval, staff: str, reason: str) -> None:
        """A refused attempt, recorded as an attempt: the person is named in the reason, never as
        the approval's approver (that field says who decided it)."""
        await self.gateway.store.append(
            kind="decision",
            decision="deny",
            policy_ids=["approval-binding"],
            reason=f"{staff}'s {reason}",
            approver=None,
            **_fields(approval),
        )

    async def _record_decision(
        self,
        approval: Approval,
        status: str,
        staff: str | None,
        note: str | None,
        decision: str,
        reason: str,
        person: Oversight | None = None,
    ) -> None:
        try:
            await self.gateway.store.append(
                kind="decision",
                decision=decision,
                policy_ids=approval.policy_ids,
                reason=reason,
                approver=staff,
                oversight=person,
                also=(transition(approval.id, PENDING, status, by=staff, at=self.clock(), note=note),),
                **_fields(approval),
            )
        except StaleState:
            raise ApprovalConflict(f"approval {approval.id} was decided meanwhile") from None

    # ----- execution, exactly once

    async def execute(self, approval: Approval) -> None:
        """Run an approved call; the same idempotency key makes a second run answer the first result."""
        gateway = self.gateway
        if digest(approval.arguments) != approval.arguments_digest:
            # Changed at rest after a human saw them: run nothing, and say so in the log.
            reason = f"approval {approval.id}: the stored arguments no longer match the approved digest; not run"
            await gateway.store.append(
                kind="decision",
                decision="deny",
                policy_ids=["approval-binding"],
                reason=reason,
                approver=approval.decided_by,
                also=(finish(approval.id, FAILED, None, "arguments do not match their digest"),),
                **_fields(approval),
            )
            self.wake.set()
            return
        meta = {ENVELOPE_META_KEY: approval.envelope}
        verdict = await gateway.authorize(approval.agent, approval.tool, approval.arguments, meta, approval=approval)
        if not verdict.allowed:
            await gateway.store.run(
                (finish(approval.id, FAILED, None, f"denied at execution: {verdict.record.reason}"),)
            )
        else:
            result = await gateway.forward(verdict, dict(approval.arguments))
            data = result.structured_content if isinstance(result.structured_content, dict) else None
            text = next((c.text for c in result.content if isinstance(c, TextContent)), "")
            status, outcome = (FAILED, f"error: {text[:300]}") if result.is_error else (EXECUTED, "ok")
            await gateway.store.run((finish(approval.id, status, data, outcome),))
        self.wake.set()

    async def resume(self) -> None:
        """After a restart: finish approved-but-unfinished calls, then notify what is owed."""
        for approval in await self.approvals.with_status(APPROVED):
            logger.warning("resuming approval %s interrupted by a restart", approval.id)
            await self.execute(approval)
        self.wake.set()

    async def reject_killed(self, staff: str, role: str = "admin", shared_account: bool = False) -> int:
        """Reject every pending approval a kill switch now stops; returns how many."""
        count = 0
        for approval in await self.approvals.with_status(PENDING):
            scope = self.gateway.state.killed(approval.agent, approval.tool)
            if scope is None:
                continue
            try:
                await self.reject(
                    approval.id,
                    staff,
                    f"kill switch on ({scope})",
                    why=f"kill switch on ({scope})",
                    role=role,
                    shared_account=shared_account,
                )
                count += 1
            except (ApprovalConflict, ApprovalGone):
                continue
        return count

    async def expire_due(self) -> None:
        now = self.clock()
        for approval in await self.approvals.with_status(PENDING):
            if approval.expires_at <= now:
                try:
                    await self._record_decision(
                        approval, EXPIRED, None, None, "rejected", f"approval {approval.id} expired"
                    )
                except ApprovalConflict:
                    continue

    # ----- telling the orchestrator

    async def run(self, interval: float = 1.0) -> None:
        """Background loop: expire due approvals and deliver final states, retrying until acknowledged."""
        async with httpx.AsyncClient(timeout=5.0, verify=client_tls()) as http:
            while True:
                try:
                    await self.expire_due()
                    await self._notify_all(http)
                except Exception:
                    logger.exception("approval notification round failed; will retry")
                self.wake.clear()
                try:
                    async with asyncio.timeout(interval):
                        await self.wake.wait()
                except TimeoutError:
                    pass

    async def _notify_all(self, http: httpx.AsyncClient) -> None:
        if self._callback is None or self._tokens is None:
            return
        await notify_all(self.approvals, self._callback, self._tokens, http)


def _fields(approval: Approval) -> dict[str, Any]:
    from gateway.redact import redact

    return {
        "agent": approval.agent,
        "tool": approval.tool,
        "conversation_id": approval.conversation_id,
        "customer_id": approval.customer_id,
        "arguments": redact(approval.arguments),
        "arguments_digest": approval.arguments_digest,
    }
