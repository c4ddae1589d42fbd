"""Telling the orchestrator an approval's final state, so the parked conversation continues.

Delivered at least once: an approval is marked notified only after the orchestrator answers 2xx,
and the desk's loop retries the rest.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from gateway.approvals import ApprovalStore
from shared.errors import SwitchboardError
from shared.service_auth.audiences import ORCHESTRATOR
from shared.service_auth.client import TokenSource

logger = logging.getLogger(__name__)


async def notify_all(approvals: ApprovalStore, callback: str, tokens: TokenSource, http: httpx.AsyncClient) -> None:
    """Post every unnotified final state; stops at the first unreachable delivery (the next round retries)."""
    for approval in await approvals.unnotified():
        body: dict[str, Any] = {
            "approval_id": approval.id,
            "conversation_id": approval.conversation_id,
            "status": approval.status,
            "tool": approval.tool,
            "arguments": {k: v for k, v in approval.arguments.items() if k != "idempotency_key"},
            "result": approval.result,
            "outcome": approval.outcome,
            "note": approval.note,
            "decided_by": approval.decided_by,
        }
        try:
            token = await tokens.token(ORCHESTRATOR)
            response = await http.post(callback, json=body, headers={"Authorization": f"Bearer {token}"})
        except (httpx.HTTPError, SwitchboardError) as exc:
            logger.warning("orchestrator not reachable for approval %s: %s", approval.id, exc)
            return
        if response.status_code < 300:
            await approvals.mark_notified(approval.id, approval.status)
        else:
            logger.warning("orchestrator refused approval %s: %s", approval.id, response.status_code)
