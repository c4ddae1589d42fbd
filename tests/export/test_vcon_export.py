"""vCon export of one conversation: parties, dialog on every channel, analysis, audited tool calls."""

from __future__ import annotations

import json

import pytest

from gateway import read_audit
from orchestrator.export import build_vcon, conversation_ids, load_conversation, vcon_uuid
from orchestrator.export._vcon_lib import Vcon
from shared.errors import InvalidRequest, NotFound
from tests.export.conftest import KEYS, Written


def test_parties_dialog_analysis_and_attachments(written: Written) -> None:
    record = load_conversation(written.data_dir, written.escalated)
    vcon = build_vcon(record)
    assert vcon.is_valid() == (True, [])
    assert vcon.uuid == vcon_uuid(written.escalated) and vcon.uuid[14] == "8"
    roles = [(p["role"], p.get("meta", {}).get("kind"), p["name"]) for p in vcon.parties]
    assert roles[0] == ("customer", "customer", "Nia") and vcon.parties[0]["mailto"] == KEYS.email
    assert ("agent", "ai", "payment") in roles and ("agent", "human", "Sam (human)") in roles
    assert ("agent", "ai", "billing") in roles  # acted (was denied) without speaking
    assert {d["application"] for d in vcon.dialog} == {"chat", "voice"}
    assert len(vcon.dialog) == 5 and all(d["type"] == "text" for d in vcon.dialog)
    assert "482913" not in vcon.to_json(), "one-time codes are never exported"
    intents = vcon.find_analysis_by_type("intent")["body"]
    assert [i["skill"] for i in intents] == ["verify-identity", "refund-charge"]
    assert vcon.find_analysis_by_type("outcome")["body"]["status"] == "escalated"
    assert "refund" in vcon.find_analysis_by_type("summary")["body"]

    calls = [a["body"] for a in vcon.attachments]
    assert [(c["agent"], [d["decision"] for d in c["decisions"]]) for c in calls] == [
        ("payment", ["allow", "allow"]),
        ("billing", ["deny"]),
    ]
    chain = {r.seq: r.hash for r in read_audit(written.data_dir / "audit.db")}
    for call in calls:
        assert all(chain[a["seq"]] == a["hash"] for a in call["audit"])
    assert calls[0]["decisions"][0]["policy_ids"] == ["grant.payment.refunds"]


def test_round_trip_through_the_library(written: Written) -> None:
    vcon = build_vcon(load_conversation(written.data_dir, written.escalated))
    again = Vcon.build_from_json(vcon.to_json())
    assert again.to_dict() == vcon.to_dict()
    assert Vcon.validate_json(vcon.to_json()) == (True, [])


def test_pii_redaction_masks_the_customer_everywhere(written: Written) -> None:
    text = build_vcon(load_conversation(written.data_dir, written.escalated), redaction="pii").to_json()
    for secret in (KEYS.email, KEYS.msisdn, KEYS.account_number, KEYS.customer_id, "Nia", "482913"):
        assert secret not in text, secret
    body = json.loads(text)
    assert body["redacted"] == {"type": "pii"} and body["parties"][0]["tel"] == "[phone]"
    assert Vcon.validate_json(text)[0]


def test_time_range_and_missing_things(written: Written) -> None:
    assert conversation_ids(written.data_dir, since=0, until=1_500) == [written.escalated]
    assert len(conversation_ids(written.data_dir)) == 3
    with pytest.raises(NotFound):
        load_conversation(written.data_dir, "conv-nope")
    with pytest.raises(InvalidRequest, match="no conversations at"):
        conversation_ids(written.data_dir / "elsewhere")


async def test_a_human_who_approved_a_held_call_is_a_party(written: Written) -> None:
    from gateway.audit_store import AuditStore
    from shared.audit import digest

    args = {"account_number": KEYS.account_number, "charge_id": "CH-9", "amount": 250.0}
    common = {
        "conversation_id": written.closed, "trace_id": "t9", "agent": "payment", "tool": "payments.issue_refund",
        "customer_id": KEYS.customer_id, "arguments": args, "arguments_digest": digest(args),
    }  # fmt: skip
    audit = await AuditStore.open(written.data_dir / "audit.db")
    try:
        held = await audit.append(
            **common, decision="approval-required", policy_ids=["approval.refund-above-40"], reason="held"
        )
        await audit.append(
            **common, kind="outcome", decision="approved", policy_ids=["approval.refund-above-40"],
            reason=f"outcome of {held.id}", approver="sam.approver", outcome="ok",
        )  # fmt: skip
    finally:
        await audit.close()
    vcon = build_vcon(load_conversation(written.data_dir, written.closed))
    assert vcon.is_valid() == (True, [])
    approver = next(i for i, p in enumerate(vcon.parties) if p["name"] == "sam.approver")
    assert vcon.parties[approver]["role"] == "approver" and vcon.parties[approver]["meta"]["kind"] == "human"
    (call,) = [a["body"] for a in vcon.attachments if a["body"]["tool"] == "payments.issue_refund"]
    assert call["approver_parties"] == [approver]
    assert [(d["decision"], d["approver"]) for d in call["decisions"]] == [
        ("approval-required", None),
        ("approved", "sam.approver"),
    ]
    assert Vcon.build_from_json(vcon.to_json()).to_dict() == vcon.to_dict()
