"""What an agent gets back: refusals every MCP client can read, and facts read off an answer."""

from __future__ import annotations

import re
from typing import Any

from mcp_types import CallToolResult, TextContent

from shared import telemetry
from shared.audit import AuditRecord
from shared.tools import REFUSAL_META_KEY

AUDIT_META_KEY = "switchboard/audit_id"
"""Result ``_meta``: the id of the decision record, so agents can cite it."""

DENIED_PREFIX = "DENIED:"
APPROVAL_PREFIX = "APPROVAL_REQUIRED:"


def tool_error(text: str, audit_id: str, details: dict[str, Any]) -> CallToolResult:
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
    return tool_error(
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


def unavailable_result(system: str, audit_id: str, *, maybe_sent: bool, read_only: bool) -> CallToolResult:
    sentence = unavailable_sentence(system, maybe_sent=maybe_sent, read_only=read_only)
    return tool_error(sentence, audit_id, {"kind": "unavailable", "system": system, "audit_id": audit_id})


def outside_schema_result(system: str, audit_id: str, *, read_only: bool) -> CallToolResult:
    """The system answered, but not in the form it lists for the tool: nothing of it is passed on.

    Worded as unavailable (the agent tells the customer a system cannot help right now, and asks
    nothing it could act on), and for a write as "may or may not": the system did answer.
    """
    done = (
        "nothing was changed — try again later or ask for a human"
        if read_only
        else "the action may or may not have been carried out — check before retrying "
        "(retry with the same idempotency_key) or ask for a human"
    )
    sentence = (
        f"the {system} system is unavailable for this call: it answered in a form it does not publish, "
        f"so the answer was not passed on; {done}"
    )
    details = {"kind": "unavailable", "system": system, "audit_id": audit_id, "reason": "answer outside its schema"}
    return tool_error(sentence, audit_id, details)


def decision_attributes(record: AuditRecord) -> dict[str, Any]:
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


def customer_named(result: CallToolResult) -> str | None:
    """The unified customer id an upstream's answer names (``customer_id``, or ``customer.keys``)."""
    data = result.structured_content
    if not isinstance(data, dict):
        return None
    found = data.get("customer_id")
    customer = data.get("customer")
    if found is None and isinstance(customer, dict) and isinstance(customer.get("keys"), dict):
        found = customer["keys"].get("customer_id")
    return found if isinstance(found, str) and _CUSTOMER_ID.fullmatch(found) else None


def first_text(result: CallToolResult) -> str:
    return next((c.text for c in result.content if isinstance(c, TextContent)), "")
