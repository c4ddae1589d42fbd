"""A small stand-in for the governance gateway: the catalog's tool names and output shapes.

It is not a policy engine. Tests tell it which tools to deny (``deny``) and which systems
are down (``down``); it records every call with its arguments, envelope and bearer token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent

from shared.envelope import ENVELOPE_META_KEY
from shared.skill_steps import STEP_META_KEY
from shared.tools import READ_BATCH_TOOL

NOW = datetime.now(UTC)
CUSTOMER = {
    "customer_id": "CUST-00001",
    "email": "ana@example.com",
    "msisdn": "+15550100123",
    "account_number": "ACC-1234567",
}
GOOD_CODE = "123456"
DUPLICATE = {
    "charge_id": "CH-9",
    "duplicate_of": "CH-8",
    "invoice_id": "INV-2",
    "amount": 32.5,
    "currency": "EUR",
    "charged_at": "2025-11-03T09:00:00+00:00",
}


def _ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


@dataclass
class Call:
    tool: str
    args: dict[str, Any]
    envelope: dict[str, Any] | None
    bearer: str | None
    step: dict[str, Any] | None = None
    """The skill step the call claimed (``_meta['switchboard/step']``), if any."""


@dataclass
class FakeGateway:
    deny: dict[str, str] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    hold: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    interactions: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    outage: dict[str, Any] | None = None
    plan_id: str = "basic-10"
    attempts_left: int = 3
    contract_months_left: int = 4
    orders: list[dict[str, Any]] = field(default_factory=list)
    payment_method: dict[str, Any] = field(
        default_factory=lambda: {"card_last4": "4242", "card_expiry": "2026-09", "card_expired": True, "autopay": False}
    )
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def tools_called(self) -> list[str]:
        return [c.tool for c in self.calls]

    def last(self, tool: str) -> Call:
        return [c for c in self.calls if c.tool == tool][-1]

    def approve_held_refund(self) -> dict[str, Any]:
        """A human approves the held refund: like the gateway, run the held call itself, under its key."""
        held = self.last("payments.issue_refund").args
        return self.refunds.setdefault(
            held["idempotency_key"],
            {
                "refund_id": f"RF-{len(self.refunds) + 1}",
                "charge_id": held["charge_id"],
                "amount": held["amount"],
                "status": "succeeded",
                "created_at": _ago(0),
            },
        )


def ticket(ticket_id: str, days_ago: int, summary: str, status: str = "open") -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "category": "connectivity",
        "summary": summary,
        "status": status,
        "priority": "normal",
        "opened_at": _ago(days_ago),
        "repeat_of": None,
    }


def order(order_id: str, status: str, item: str = "Pixel 9 128GB") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "item": item,
        "status": status,
        "ordered_on": _ago(2)[:10],
        "expected_delivery": _ago(-3)[:10],
        "delivery_option": "standard",
        "tracking_id": "TRK0000042" if status != "processing" else None,
        "can_change": status == "processing",
    }


PLANS = [
    {"plan_id": "basic-10", "name": "Basic 10", "monthly_fee": 15.0, "data_gb": 10, "features": ["calls"]},
    {
        "plan_id": "unlimited-max",
        "name": "Unlimited Max",
        "monthly_fee": 45.0,
        "data_gb": 999,
        "features": ["calls", "roaming", "hotspot", "5g"],
    },
    {"plan_id": "family-share", "name": "Family Share", "monthly_fee": 60.0, "data_gb": 100, "features": ["calls"]},
]


def build_gateway(state: FakeGateway) -> MCPServer:
    async def policy(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        tool = str(params.get("name"))
        meta = ctx.meta or {}
        raw = meta.get(ENVELOPE_META_KEY) if isinstance(meta, dict) else getattr(meta, ENVELOPE_META_KEY, None)
        headers = getattr(ctx.request, "headers", None) or {}
        auth = headers.get("authorization", "")
        envelope, bearer = json.loads(raw) if raw else None, auth[7:] or None
        raw_claim = meta.get(STEP_META_KEY) if isinstance(meta, dict) else getattr(meta, STEP_META_KEY, None)
        claimed = json.loads(raw_claim) if raw_claim else None
        arguments = dict(params.get("arguments") or {})
        if tool == READ_BATCH_TOOL:
            # Like the real gateway: each read in the batch is its own governed call.
            results = []
            for inner in arguments.get("calls") or []:
                name, args = str(inner["tool"]), dict(inner.get("arguments") or {})
                refused = govern(name, args, envelope, bearer, claimed)
                result = refused or await gw.call_tool(name, args)
                assert isinstance(result, CallToolResult)
                results.append(result.model_dump(mode="json", by_alias=True, exclude_none=True))
            return CallToolResult(
                content=[TextContent(type="text", text="batch")], structured_content={"results": results}
            )
        return govern(tool, arguments, envelope, bearer, claimed) or await call_next(ctx)

    def govern(
        tool: str, arguments: dict[str, Any], envelope: Any, bearer: str | None, claimed: Any
    ) -> CallToolResult | None:
        state.calls.append(Call(tool, arguments, envelope, bearer, claimed))
        if tool in state.deny:
            return CallToolResult(content=[TextContent(type="text", text=f"DENIED: {state.deny[tool]}")], is_error=True)
        if tool in state.hold:
            text = "APPROVAL_REQUIRED: held for a human approver (approval APR-1)"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        if tool.split(".")[0] in state.down:
            text = f"UNAVAILABLE: the {tool.split('.')[0]} system is not answering; retry later"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return None

    gw = MCPServer("fake-gateway", middleware=[policy])

    @gw.tool(name=READ_BATCH_TOOL)
    async def read_batch(calls: list[dict[str, Any]]) -> dict[str, Any]:
        raise ToolError("answered by the middleware")  # listed so clients know it; never reached

    @gw.tool(name="identity.get_contact_details")
    async def get_contact_details(customer_id: str) -> dict[str, Any]:
        return {"customer_id": customer_id, "email": CUSTOMER["email"], "msisdn": CUSTOMER["msisdn"], "changed": False}

    @gw.tool(name="identity.resolve_customer")
    async def resolve_customer(hint: str) -> dict[str, Any]:
        if hint.lower() not in {v.lower() for v in CUSTOMER.values()}:
            raise ToolError("no customer matches that hint")
        return {
            "customer_id": CUSTOMER["customer_id"],
            "display_name": "Ana",
            "destinations": {"sms": "+1•••••••123", "email": "a••@example.com"},
        }

    @gw.tool(name="identity.start_verification")
    async def start_verification(identifier: str, channel: str, conversation_id: str) -> dict[str, Any]:
        # Like the real system: the same answer whether the identifier matches or not.
        known = any(v.lower() in identifier.lower() for v in CUSTOMER.values())
        return {
            "verification_id": "VER-1" if known else "VER-0",
            "sent_to": "the email address or mobile number on the account",
            "expires_at": _ago(-1),
            "attempts_left": 3,
        }

    @gw.tool(name="identity.verify_code")
    async def verify_code(verification_id: str, code: str, conversation_id: str) -> dict[str, Any]:
        if verification_id == "VER-1" and code == GOOD_CODE and state.attempts_left > 0:
            return {
                "verified": True,
                "attempts_left": state.attempts_left,
                "locked": False,
                "auth_context": "signed.auth.context",
                "customer": {"keys": CUSTOMER, "display_name": "Ana"},
            }
        state.attempts_left -= 1
        return {"verified": False, "attempts_left": state.attempts_left, "locked": state.attempts_left <= 0}

    @gw.tool(name="identity.send_sign_in_link")
    async def send_sign_in_link(customer_id: str, purpose: str, idempotency_key: str) -> dict[str, Any]:
        return {"link_id": "LNK-1", "purpose": purpose, "sent_to": "a••@example.com", "expires_at": _ago(-1)}

    @gw.tool(name="billing.list_invoices")
    async def list_invoices(msisdn: str, limit: int = 6) -> dict[str, Any]:
        invoices = [
            {
                "invoice_id": "INV-2",
                "period": "2025-11",
                "issued_on": "2025-11-01",
                "total": 32.5,
                "status": "open",
                "lines": [
                    {"description": "Basic 10 plan", "amount": 15.0},
                    {"description": "Roaming day pass", "amount": 12.5},
                    {"description": "Extra data", "amount": 5.0},
                ],
            },
            {
                "invoice_id": "INV-1",
                "period": "2025-10",
                "issued_on": "2025-10-01",
                "total": 18.0,
                "status": "paid",
                "lines": [
                    {"description": "Basic 10 plan", "amount": 15.0},
                    {"description": "Extra data", "amount": 3.0},
                ],
            },
        ]
        return {"invoices": invoices[:limit]}

    @gw.tool(name="billing.get_account")
    async def get_account(msisdn: str) -> dict[str, Any]:
        plan = next(p for p in PLANS if p["plan_id"] == state.plan_id)
        return {
            "plan_id": plan["plan_id"],
            "plan_name": plan["name"],
            "monthly_fee": plan["monthly_fee"],
            "status": "active",
            "balance_due": 0.0,
            "next_bill_date": "2025-12-01",
        }

    @gw.tool(name="billing.get_contract")
    async def get_contract(msisdn: str) -> dict[str, Any]:
        left = state.contract_months_left
        return {
            "msisdn": msisdn,
            "plan_name": "Basic 10",
            "started_on": "2025-03-01",
            "term_months": 24,
            "ends_on": "2027-03-01" if left else "2025-03-01",
            "in_minimum_term": left > 0,
            "months_remaining": left,
            "early_exit_fee": round(left * 15.0, 2),
            "exit_fee_per_month": 15.0,
            "notice_days": 30,
            "currency": "GBP",
        }

    @gw.tool(name="billing.list_plans")
    async def list_plans() -> dict[str, Any]:
        return {"plans": PLANS}

    @gw.tool(name="billing.get_entitlements")
    async def get_entitlements(msisdn: str) -> dict[str, Any]:
        plan = next(p for p in PLANS if p["plan_id"] == state.plan_id)
        return {
            "plan_id": plan["plan_id"],
            "plan_name": plan["name"],
            "features": plan["features"],
            "data_gb": plan["data_gb"],
            "updated_at": _ago(0),
        }

    @gw.tool(name="billing.change_plan")
    async def change_plan(msisdn: str, plan_id: str, idempotency_key: str) -> dict[str, Any]:
        old, state.plan_id = state.plan_id, plan_id
        return {"old_plan_id": old, "new_plan_id": plan_id, "effective_from": "2025-12-01"}

    @gw.tool(name="payments.find_duplicate_charges")
    async def find_duplicate_charges(account_number: str) -> dict[str, Any]:
        # Like the payments system: what is still refundable after the refunds issued so far.
        refunded: dict[str, float] = {}
        for refund in state.refunds.values():
            refunded[refund["charge_id"]] = refunded.get(refund["charge_id"], 0.0) + refund["amount"]
        duplicates = [
            {**d, "refundable_amount": round(d["amount"] - refunded.get(d["charge_id"], 0.0), 2)}
            for d in state.duplicates
        ]
        return {"duplicates": [d for d in duplicates if d["refundable_amount"] > 0]}

    @gw.tool(name="payments.list_charges")
    async def list_charges(account_number: str, limit: int = 10) -> dict[str, Any]:
        charges = [
            {
                "charge_id": f"CH-{i}",
                "invoice_id": f"INV-{i}",
                "amount": 18.0 + i,
                "currency": "EUR",
                "charged_at": _ago(30 * i),
                "card_last4": "4242",
                "status": "succeeded",
                "refunded_amount": 0.0,
            }
            for i in range(1, 4)
        ]
        return {"charges": charges[:limit]}

    @gw.tool(name="payments.issue_refund")
    async def issue_refund(
        account_number: str, charge_id: str, amount: float, reason: str, idempotency_key: str
    ) -> dict[str, Any]:
        if idempotency_key not in state.refunds:
            state.refunds[idempotency_key] = {
                "refund_id": f"RF-{len(state.refunds) + 1}",
                "charge_id": charge_id,
                "amount": amount,
                "status": "succeeded",
                "created_at": _ago(0),
            }
        return state.refunds[idempotency_key]

    @gw.tool(name="payments.list_refunds")
    async def list_refunds(account_number: str) -> dict[str, Any]:
        return {"refunds": list(state.refunds.values())}

    @gw.tool(name="payments.get_payment_method")
    async def get_payment_method(account_number: str) -> dict[str, Any]:
        return {"account_number": account_number, **state.payment_method}

    @gw.tool(name="payments.set_autopay")
    async def set_autopay(account_number: str, enabled: bool, idempotency_key: str) -> dict[str, Any]:
        state.payment_method["autopay"] = enabled
        return {"account_number": account_number, **state.payment_method}

    @gw.tool(name="network.get_line_status")
    async def get_line_status(msisdn: str) -> dict[str, Any]:
        return {
            "sim_status": "active",
            "device_model": "Pixel 8",
            "connectivity": "degraded" if state.outage else "ok",
            "roaming": False,
            "area": "Riverside",
            "area_outage": state.outage,
            "last_sim_change": _ago(400),
        }

    @gw.tool(name="network.block_sim")
    async def block_sim(msisdn: str, reason: str, idempotency_key: str) -> dict[str, Any]:
        return {"msisdn": msisdn, "sim_status": "blocked", "blocked_at": _ago(0), "reason": reason}

    @gw.tool(name="network.order_replacement_sim")
    async def order_replacement_sim(msisdn: str, idempotency_key: str) -> dict[str, Any]:
        expected = (NOW + timedelta(days=2)).date().isoformat()
        return {"order_id": "SIM-0001", "msisdn": msisdn, "status": "dispatched", "expected_delivery": expected}

    @gw.tool(name="crm.list_interactions")
    async def list_interactions(email: str, limit: int = 10) -> dict[str, Any]:
        return {"interactions": state.interactions[:limit]}

    @gw.tool(name="crm.log_interaction")
    async def log_interaction(
        email: str, channel: str, topic: str, summary: str, outcome: str, conversation_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        return {"interaction_id": f"INT-{len(state.calls)}"}

    @gw.tool(name="support.search_knowledge")
    async def search_knowledge(query: str, limit: int = 3) -> dict[str, Any]:
        article = {
            "article_id": "KB-7",
            "title": "Slow or no mobile data",
            "summary": "Reset the data connection",
            "steps": ["Turn airplane mode on and off", "Check mobile data is on", "Restart your phone"],
            "score": 0.9,
        }
        return {"articles": [article][:limit]}

    @gw.tool(name="support.open_ticket")
    async def open_ticket(
        email: str,
        category: str,
        summary: str,
        priority: str,
        idempotency_key: str,
        repeat_of: str | None = None,
    ) -> dict[str, Any]:
        return {"ticket_id": "TCK-1001", "status": "open", "priority": priority}

    @gw.tool(name="support.list_tickets")
    async def list_tickets(email: str, status: str = "any") -> dict[str, Any]:
        return {"tickets": state.tickets}

    @gw.tool(name="support.list_orders")
    async def list_orders(email: str) -> dict[str, Any]:
        return {"orders": state.orders}

    def _changed(order_id: str, **update: Any) -> dict[str, Any]:
        order = next(o for o in state.orders if o["order_id"] == order_id)
        if not order["can_change"]:
            raise ToolError(f"order {order_id} is {order['status']} and can no longer be changed")
        order.update(update)
        return order

    @gw.tool(name="support.cancel_order")
    async def cancel_order(email: str, order_id: str, idempotency_key: str) -> dict[str, Any]:
        return _changed(order_id, status="cancelled", expected_delivery=None, can_change=False)

    @gw.tool(name="support.change_delivery")
    async def change_delivery(email: str, order_id: str, delivery_option: str, idempotency_key: str) -> dict[str, Any]:
        return _changed(order_id, delivery_option=delivery_option, expected_delivery=_ago(-1)[:10])

    @gw.tool(name="support.request_human")
    async def request_human(
        conversation_id: str, reason: str, summary: str, priority: str, idempotency_key: str, email: str | None = None
    ) -> dict[str, Any]:
        return {"handoff_id": "HO-1", "queue_position": 2}

    return gw
