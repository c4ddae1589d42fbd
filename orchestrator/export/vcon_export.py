"""One conversation as an IETF vCon, built with the ``vcon`` library.

- parties: the customer (role ``customer``), then every AI agent that spoke or acted (role
  ``agent``, ``meta.kind = "ai"``; the supervisor included), then every human agent (role
  ``agent``, ``meta.kind = "human"``) and every member of staff who decided a held tool call
  (role ``approver``, ``meta.kind = "human"``);
- dialog: one ``text`` dialog per transcript entry, whatever its channel (``application`` names
  the channel: chat, voice, email, api; no audio is recorded, so there is no ``recording``);
- a phone call's calling number is a party of its own (role ``customer``, ``tel``, ``meta.kind =
  "caller"``, ``meta.channel = "voice"``): caller ID is not proof of who the customer is, so it is
  kept apart from the verified customer, and it originates the caller's dialogs on that call;
- analysis: ``intent`` (the skills the customer's goals were routed to), ``summary`` and
  ``outcome`` (final status, verified, last handoff result);
- attachments: ``ai_disclosure`` naming the dialog that told the customer an automated assistant
  answers (the conversation's first entry, ``skill = "ai-disclosure"``): its text, channel and time;
  absent when no such notice was given. Then one ``tool_call`` per governed tool call, with
  every gateway decision for it (policy ids, reason, approver) and the audit records' sequence numbers and hashes, so a
  reader can check them against ``switchboard audit verify``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from orchestrator.conversations import TranscriptEntry
from orchestrator.disclosure import DISCLOSURE_SKILL
from orchestrator.export._vcon_lib import Dialog, Party, Vcon
from orchestrator.export.redaction import Redaction, Redactor
from orchestrator.export.source import ConversationRecord, PhoneCall
from shared.audit import AuditRecord

VENDOR = "switchboard"
SUPERVISOR = "supervisor"


def vcon_uuid(conversation_id: str) -> str:
    """A stable UUID (version 8) per conversation: re-exports carry the same id, so receivers can dedupe."""
    raw = bytearray(hashlib.sha256(conversation_id.encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class _Parties:
    def __init__(self, vcon: Vcon) -> None:
        self._vcon = vcon
        self._index: dict[tuple[str, str], int] = {}

    def add(self, kind: str, name: str, party: Party) -> int:
        key = (kind, name)
        if key not in self._index:
            self._vcon.add_party(party)
            self._index[key] = len(self._vcon.parties) - 1
        return self._index[key]

    def agent(self, name: str) -> int:
        return self.add("ai", name, Party(name=name, role="agent", meta={"kind": "ai", "agent": name}))

    def human(self, name: str, role: str = "agent") -> int:
        return self.add("human", name, Party(name=name, role=role, meta={"kind": "human"}))


def _tool_calls(audit: list[AuditRecord]) -> list[list[AuditRecord]]:
    """Group audit records per tool call: a decision and the records that refer to it."""
    calls: dict[str, list[AuditRecord]] = {}
    order: list[str] = []
    for record in audit:
        ref = record.reason.removeprefix("outcome of ").strip() if record.kind == "outcome" else record.id
        if ref not in calls:
            calls[ref] = []
            order.append(ref)
        calls[ref].append(record)
    return [calls[ref] for ref in order]


def build_vcon(record: ConversationRecord, *, redaction: Redaction = "none") -> Vcon:
    state, transcript = record.state, record.transcript
    customer = state.customer
    names = []
    if customer is not None and customer.display_name:
        names = [customer.display_name, *customer.display_name.split()]
    redact = Redactor(redaction, names)
    vcon = Vcon.build_new(created_at=_iso(state.created_at))
    vcon.vcon_dict["uuid"] = vcon_uuid(state.conversation_id)
    vcon.set_updated_at(_iso(state.updated_at))
    vcon.vcon_dict["subject"] = f"conversation {state.conversation_id}"
    if redaction != "none":
        vcon.vcon_dict["redacted"] = {"type": redaction}

    parties = _Parties(vcon)
    if customer is not None:
        keys = customer.keys
        customer_party = Party(
            name=redact.text(customer.display_name) if customer.display_name else None,
            mailto=redact.text(keys.email) if keys.email else None,
            tel=redact.text(keys.msisdn) if keys.msisdn else None,
            role="customer",
            meta={
                "kind": "customer",
                "customer_id": redact.text(keys.customer_id),
                "account_number": redact.text(keys.account_number or ""),
                "verified_by": state.auth_method,
            },
        )
    else:
        customer_party = Party(name="unidentified customer", role="customer", meta={"kind": "customer"})
    me = parties.add("customer", "customer", customer_party)

    callers = _callers(parties, record.calls, redact)
    for entry in transcript:
        if entry.role == "customer":
            caller = _on_call(callers, entry.at) if entry.channel == "voice" else None
            originator, other = (me if caller is None else caller), parties.agent(SUPERVISOR)
        elif entry.role == "human":
            originator, other = parties.human(entry.agent or "human agent"), me
        else:
            originator, other = parties.agent(entry.agent or SUPERVISOR), me
        meta = {k: v for k, v in {"skill": entry.skill, "trace_id": entry.trace_id, "seq": entry.seq}.items() if v}
        vcon.add_dialog(
            Dialog(
                type="text",
                start=_iso(entry.at),
                parties=[originator, other] if originator != other else [originator],
                originator=originator,
                mediatype="text/plain",
                body=redact.text(entry.text),
                encoding="none",
                application=entry.channel,
                meta=meta or None,
            )
        )
    dialogs = list(range(len(vcon.dialog)))

    for handoff in state.handoffs:
        parties.agent(handoff.to_agent)
    intents = [{"agent": h.to_agent, "skill": h.skill, "reason": redact.text(h.reason)} for h in state.handoffs]
    vcon.add_analysis(type="intent", dialog=dialogs, vendor=VENDOR, body=intents, encoding="json")
    vcon.add_analysis(type="summary", dialog=dialogs, vendor=VENDOR, body=redact.text(state.summary), encoding="none")
    outcome = {
        "status": state.status,
        "verified": bool(state.auth_method),
        "turns": state.turns,
        "last_handoff": state.handoffs[-1].model_dump(mode="json", include={"to_agent", "skill", "status"})
        if state.handoffs
        else None,
    }
    vcon.add_analysis(type="outcome", dialog=dialogs, vendor=VENDOR, body=outcome, encoding="json")

    _add_disclosures(vcon, parties, transcript, redact)
    for call in _tool_calls(record.audit):
        first = call[0]
        # A member of staff who decided a held call took part in the conversation: a human party.
        approvers = sorted({parties.human(r.approver, role="approver") for r in call if r.approver})
        body: dict[str, Any] = {
            "tool": first.tool,
            "agent": first.agent,
            "trace_id": first.trace_id,
            "arguments": redact.value(first.arguments),
            "arguments_digest": first.arguments_digest,
            "decisions": [
                {
                    "kind": r.kind,
                    "decision": r.decision,
                    "policy_ids": r.policy_ids,
                    "reason": redact.text(r.reason),
                    "approver": r.approver,
                    "outcome": redact.text(r.outcome) if r.outcome else None,
                    "latency_ms": r.latency_ms,
                    "time": r.time,
                }
                for r in call
            ],
            "audit": [{"seq": r.seq, "id": r.id, "hash": r.hash, "prev_hash": r.prev_hash} for r in call],
        }
        if approvers:
            body["approver_parties"] = approvers
        vcon.add_attachment(
            purpose="tool_call",
            body=body,
            encoding="json",
            start=first.time,
            party=parties.agent(first.agent),
            dialog=_dialog_for(first, transcript),
        )
    return vcon


def _callers(parties: _Parties, calls: list[PhoneCall], redact: Redactor) -> list[tuple[float, int]]:
    """(call start, party index) per phone call with a calling number, oldest first."""
    found = []
    for call in calls:
        if not call.caller:
            continue
        tel = redact.text(call.caller)
        meta = {"kind": "caller", "channel": "voice", "call_sid": call.call_sid}
        found.append((call.started_at, parties.add("caller", tel, Party(tel=tel, role="customer", meta=meta))))
    return found


def _add_disclosures(vcon: Vcon, parties: _Parties, transcript: list[TranscriptEntry], redact: Redactor) -> None:
    """One ``ai_disclosure`` attachment per notice that an automated assistant answered (Art. 50)."""
    for index, entry in enumerate(transcript):
        if entry.skill != DISCLOSURE_SKILL or entry.role != "system":
            continue
        body = {"given": True, "channel": entry.channel, "text": redact.text(entry.text), "at": _iso(entry.at)}
        vcon.add_attachment(
            purpose="ai_disclosure",
            body=body,
            encoding="json",
            start=_iso(entry.at),
            party=parties.agent(entry.agent or SUPERVISOR),
            dialog=index,
        )


def _on_call(callers: list[tuple[float, int]], at: float) -> int | None:
    """The party of the call that was on the line at ``at`` (the latest one started before it)."""
    started = [party for start, party in callers if start <= at]
    return started[-1] if started else None


def _dialog_for(record: AuditRecord, transcript: list[TranscriptEntry]) -> int:
    """The dialog of the customer turn the tool call served (same trace), else the first one."""
    for index, entry in enumerate(transcript):
        if record.trace_id and entry.trace_id == record.trace_id:
            return index
    return 0
