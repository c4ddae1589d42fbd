"""Classifying gateway answers: allow, deny, approval, unavailable, other errors."""

from __future__ import annotations

from mcp_types import CallToolResult, TextContent

from agents.runtime.gateway import classify


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def test_structured_output_is_the_data() -> None:
    result = CallToolResult(content=[], structured_content={"ticket_id": "T-1"}, _meta={"switchboard/audit_id": "A1"})
    outcome = classify("support.open_ticket", result)
    assert (outcome.kind, outcome.data, outcome.audit_id) == ("ok", {"ticket_id": "T-1"}, "A1")


def test_json_text_is_the_data_when_unstructured() -> None:
    result = CallToolResult(content=[TextContent(type="text", text='{"a": 1}')])
    assert classify("x.y", result).data == {"a": 1}


def test_denied_prefix_is_a_denial() -> None:
    outcome = classify("payments.issue_refund", _error("DENIED: fraud hold"))
    assert (outcome.kind, outcome.message) == ("denied", "fraud hold")


def test_approval_prefix_is_a_hold() -> None:
    assert classify("payments.issue_refund", _error("APPROVAL_REQUIRED: over 100")).kind == "approval"


def test_dead_system_is_unavailable() -> None:
    assert classify("billing.get_account", _error("billing is not answering; retry later")).kind == "unavailable"
    assert classify("billing.get_account", _error("upstream timed out")).kind == "unavailable"


def test_a_call_the_gateway_could_not_record_is_unavailable_not_refused() -> None:
    # Its audit store too slow or down: nothing judged the call, so the customer must not hear
    # that we may not help them, only that a system is not answering.
    words = "unavailable: the governance gateway could not decide or record this call, so it was not made"
    assert classify("payments.issue_refund", _error(words)).kind == "unavailable"


def test_other_errors_are_errors() -> None:
    assert classify("identity.resolve_customer", _error("no customer matches that hint")).kind == "error"
