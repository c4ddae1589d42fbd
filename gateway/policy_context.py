"""The Cedar request the engine evaluates: a call's context attributes and the tool entity graph.

The shape here must match ``schema.cedarschema``; ``CedarPolicyEngine.check_context_shape``
evaluates a sample with the schema at start-up so a drift fails there, not per call.
"""

from __future__ import annotations

import json
from typing import Any

import cedarpy

from gateway.policy_interface import PolicyRequest, ToolFacts
from gateway.tool_args import ArgSchema, cedar_args, decimal_json


def call_context(
    request: PolicyRequest, tool_args: tuple[str, ...], args: ArgSchema, *, with_args: bool = True
) -> dict[str, Any]:
    """Every context attribute of one request (``tool_args``: the tool's arguments policies may read)."""
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
        "args": {},
    }
    if with_args and request.arguments:
        context["args"] = cedar_args(request.arguments, tool_args, args)
    if request.open_support_cases is not None:
        context["open_support_cases"] = request.open_support_cases
    if request.amount is not None:
        context["amount"] = decimal_json(request.amount)
    if request.charge_refundable is not None:
        context["charge_refundable"] = request.charge_refundable
    if request.refunds_today is not None:
        context["refunds_today"] = decimal_json(request.refunds_today)
    if request.daily_refund_limit is not None:
        context["daily_refund_limit"] = decimal_json(request.daily_refund_limit)
    return context


def tool_entities(tools: list[ToolFacts], schema: cedarpy.Schema) -> cedarpy.Entities:
    entities: list[dict[str, Any]] = [
        {"uid": {"type": "System", "id": s}, "attrs": {}, "parents": []} for s in {t.system for t in tools}
    ]
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
    return cedarpy.Entities.from_json_str(json.dumps(entities), schema)
