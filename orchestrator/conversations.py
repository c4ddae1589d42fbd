"""Durable conversation state: one row of JSON state plus an append-only transcript.

A turn is committed in one transaction (state and transcript together), so stopping every
process between any two turns loses nothing and never leaves a half-written turn.
We measured LangGraph's SQLite checkpointer at ~3.4 ms per turn against ~0.2 ms for this
single write, and a turn here is a linear step, so the plain store is the better fit.

Every row carries a version. ``load`` remembers it on the state and ``save_turn`` writes only
if the row still has it, so two replicas handling turns of one conversation at once cannot
overwrite each other: the later one gets ``ConversationConflict`` and writes nothing.
SQLite lives here (the embedded default); PostgreSQL is ``orchestrator.storage``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, PrivateAttr

from shared.case_summary import ActionTaken
from shared.database import DatabaseURL
from shared.envelope import CustomerRef
from shared.errors import NotFound, SwitchboardError, Unauthenticated
from shared.escalation import CaseEvent, HandoffNotes, HumanControl, HumanNotice
from shared.handoff import SpecialistResult
from shared.migrations import migrate
from shared.sqlite import SqliteThread

Role = Literal["customer", "agent", "human", "system"]


class TranscriptEntry(BaseModel):
    seq: int = 0
    at: float
    role: Role
    text: str
    channel: str
    agent: str | None = None
    skill: str | None = None
    trace_id: str | None = None


class Goal(BaseModel):
    """A specialist's goal in progress (or waiting for the customer to be verified).

    The specialist holds the goal's working state in its A2A task; here is only the task's id,
    so the customer's next message continues that task and nothing else.
    """

    agent: str
    skill: str
    task_id: str | None = Field(default=None, description="the specialist's A2A task waiting for the customer")
    asking: str | None = Field(default=None, description="what the task waits for, when it says (e.g. identifier)")
    text: str = ""
    confidence: float | None = None
    reason: str = Field(default="", description="why a specialist offered this goal (its hand-over reason)")
    priority: Literal["normal", "high", "urgent"] | None = Field(
        default=None, description="the offering specialist's urgency"
    )


class HandoffEvent(BaseModel):
    at: float
    to_agent: str
    skill: str
    reason: str
    status: str = ""
    trace_id: str | None = None
    brain: str | None = Field(default=None, description="which brain routed this handoff: offline or llm:<model>")
    said: str = Field(default="", description="the customer's words that started this goal")


class ToolCallEvent(BaseModel):
    """A governed tool call as the specialist reported it (the gateway's audit has the full record)."""

    at: float
    agent: str
    skill: str
    tool: str
    decision: str
    ok: bool
    detail: str = ""
    audit_id: str | None = None
    trace_id: str | None = None


MAX_TOOL_CALLS = 100
"""Tool calls kept in the state row (oldest dropped): the row is rewritten every turn."""


class ParkedApproval(BaseModel):
    """A goal waiting for a human approval held by the governance gateway.

    Stored in the conversation's state row, so it survives a restart of every process; the
    gateway's callback (``Supervisor.resolve_approval``) clears it exactly once.
    """

    approval_id: str
    agent: str
    skill: str
    task_id: str | None = Field(default=None, description="the specialist's A2A task waiting for the decision")
    summary: str = ""
    amount: str | None = None
    currency: str | None = None
    messages: dict[str, str] = Field(
        default_factory=dict, description="the skill's words for the wait and each decision (shared.skill_messages)"
    )
    at: float = Field(default_factory=time.time)


class ClarifyOption(BaseModel):
    """One option of a clarifying question, with the router's score when it was asked."""

    agent: str
    skill: str
    label: str
    score: float = Field(ge=0.0, le=1.0)


class Clarification(BaseModel):
    """The options the customer was just offered, kept so the next message can answer them."""

    options: list[ClarifyOption] = Field(min_length=2, max_length=3)
    said: str = Field(description="the customer's words that needed the question")
    asked: int = Field(default=1, description="how many times in a row the options were offered")


class ConversationState(BaseModel):
    conversation_id: str
    channel: str = "chat"
    a2a_client: str | None = Field(
        default=None, description="the external agent (token subject) holding this conversation over A2A"
    )
    status: Literal["open", "escalated", "closed"] = "open"
    customer: CustomerRef | None = None
    claimed: str | None = Field(
        default=None,
        description="the identifier the customer gave before verifying (unproven): only ever used to count "
        "an unverified escalation as that customer's open case, which denies more, never less",
    )
    auth_context: str | None = None
    auth_method: str | None = None
    auth_expires_at: int | None = None
    active: Goal | None = None
    pending: Goal | None = Field(default=None, description="goal parked until the customer is verified")
    offer: Goal | None = Field(default=None, description="a handoff offered to the customer, taken on 'yes'")
    parked: ParkedApproval | None = Field(default=None, description="waiting for a human approval")
    queued: Goal | None = Field(
        default=None, description="a second request from the same message, taken up once the current goal is done"
    )
    clarifying: Clarification | None = Field(default=None, description="the options of the question just asked")
    escalated_at: float | None = None
    escalation: HandoffNotes | None = Field(default=None, description="the hand-off notes of the latest escalation")
    human: HumanControl | None = Field(
        default=None, description="a human agent has taken over: customer turns go to them, not the AI"
    )
    answered_at: float | None = Field(default=None, description="when a person first answered the latest request")
    case_log: list[CaseEvent] = Field(default_factory=list, description="who took, released, passed on the case")
    notices: list[HumanNotice] = Field(
        default_factory=list, description="AI messages held back for the human who owns the case"
    )
    summaries: list[str] = Field(default_factory=list)
    handoffs: list[HandoffEvent] = Field(default_factory=list)
    tool_calls: list[ToolCallEvent] = Field(default_factory=list, description="the latest governed calls, oldest first")
    actions: list[ActionTaken] = Field(
        default_factory=list, description="what the AI did or tried, with references, for the person taking the case"
    )
    llm_usage: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="model calls, tokens and cost so far, per agent ('router' for routing)"
    )
    turns: int = 0
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    # The stored row's version when this state was read; not part of the JSON.
    _version: int = PrivateAttr(default=0)

    def verified(self, now: float | None = None) -> bool:
        return bool(self.auth_context and self.auth_expires_at and self.auth_expires_at > (now or time.time()))

    @property
    def summary(self) -> str:
        return " | ".join(collapse_repeats(self.summaries)[-6:])


def collapse_repeats(lines: list[str], *, anywhere: bool = True) -> list[str]:
    """Each step once: a repeated step (asked which plan, asked again) reads "… (3 times)", so a person
    reading the case never wades through the same line again and again. ``anywhere`` merges repeats
    wherever they are (kept where first seen); otherwise only repeats in a row, keeping the timeline."""
    if anywhere:
        counts: dict[str, int] = {}
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
        return [line if counts[line] == 1 else f"{line} ({counts[line]} times)" for line in counts]
    out: list[str] = []
    run = 0
    for i, line in enumerate(lines):
        run += 1
        if i + 1 < len(lines) and lines[i + 1] == line:
            continue
        out.append(line if run == 1 else f"{line} ({run} times)")
        run = 0
    return out


class ConversationConflict(SwitchboardError):
    """Another turn of the same conversation was saved since this one loaded it; nothing was written."""

    code = "conversation_conflict"
    http_status = 409


class ConversationStore(Protocol):
    """Where conversations live: SQLite for the embedded default, PostgreSQL to scale out."""

    async def create(self, channel: str) -> tuple[ConversationState, str]: ...
    async def load(self, conversation_id: str) -> ConversationState: ...
    async def authorize(self, conversation_id: str, token: str) -> None: ...
    async def save_turn(self, state: ConversationState, entries: list[TranscriptEntry]) -> None: ...
    async def transcript(self, conversation_id: str) -> list[TranscriptEntry]: ...
    async def conversations_for_customer(self, customer_id: str) -> list[ConversationState]: ...
    async def with_status(self, status: str, limit: int = 500) -> list[ConversationState]: ...
    async def close(self) -> None: ...


def conflict(conversation_id: str) -> ConversationConflict:
    return ConversationConflict(
        f"conversation {conversation_id} was changed by another turn at the same time",
        hint="send the message again; the other turn's answer is in the transcript",
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The tables are defined in ``orchestrator.storage.tables`` and created by its revisions.


class SqliteConversationStore:
    """Conversations in one SQLite file, on two connections each owned by a worker thread.

    No statement runs on the event loop: each call is one hop to a thread (a read, or a whole
    write transaction). Reads have a connection of their own, so a write waiting for another
    process's lock (WAL lets readers through) delays only the turn that writes.
    """

    def __init__(self, reader: SqliteThread, writer: SqliteThread) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, path: Path | str) -> SqliteConversationStore:
        await migrate(DatabaseURL("sqlite", path=Path(path)), "conversations")
        reader = await SqliteThread.open(path, name="conversations-read")
        try:
            return cls(reader, await SqliteThread.open(path, name="conversations-write"))
        except BaseException:
            await reader.close()
            raise

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return await self._reader.call(lambda conn: conn.execute(sql, params).fetchone())

    async def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return await self._reader.call(lambda conn: conn.execute(sql, params).fetchall())

    async def create(self, channel: str) -> tuple[ConversationState, str]:
        """A new conversation and the secret token its customer uses to reach it."""
        state = ConversationState(conversation_id=f"conv-{uuid.uuid4().hex}", channel=channel)
        token = secrets.token_urlsafe(24)
        row = (state.conversation_id, _token_hash(token), state.model_dump_json(), state.status, state.updated_at)
        await self._writer.write(
            lambda db: db.execute(
                "INSERT INTO conversations (id, token_hash, state, customer_id, status, updated_at)"
                " VALUES (?, ?, ?, NULL, ?, ?)",
                row,
            ),
        )
        return state, token

    async def load(self, conversation_id: str) -> ConversationState:
        row = await self._one("SELECT state, version FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise NotFound(f"no conversation {conversation_id!r}", hint="start a new conversation")
        state = ConversationState.model_validate_json(row[0])
        state._version = row[1]
        return state

    async def authorize(self, conversation_id: str, token: str) -> None:
        row = await self._one("SELECT token_hash FROM conversations WHERE id = ?", (conversation_id,))
        # Same answer for "no such conversation" and "wrong token": ids are not to be probed.
        if row is None or not hmac.compare_digest(row[0], _token_hash(token or "")):
            raise Unauthenticated("unknown conversation or wrong conversation token")

    async def save_turn(self, state: ConversationState, entries: list[TranscriptEntry]) -> None:
        """Write the state and append ``entries``, if no other turn saved since ``state`` was loaded."""
        state.updated_at = time.time()
        written = await self._writer.write(lambda db: _write_turn(db, state, entries))
        if not written:
            await self.load(state.conversation_id)  # NotFound when it is gone rather than changed
            raise conflict(state.conversation_id)
        state._version += 1

    async def transcript(self, conversation_id: str) -> list[TranscriptEntry]:
        rows = await self._all(
            "SELECT entry FROM transcript WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
        )
        return [TranscriptEntry.model_validate_json(r[0]) for r in rows]

    async def with_status(self, status: str, limit: int = 500) -> list[ConversationState]:
        """Conversations in one status (e.g. the escalation queue), least recently updated first."""
        rows = await self._all(
            "SELECT state FROM conversations WHERE status = ? ORDER BY updated_at LIMIT ?", (status, limit)
        )
        return [ConversationState.model_validate_json(r[0]) for r in rows]

    async def conversations_for_customer(self, customer_id: str) -> list[ConversationState]:
        rows = await self._all(
            "SELECT state FROM conversations WHERE customer_id = ? ORDER BY updated_at", (customer_id,)
        )
        return [ConversationState.model_validate_json(r[0]) for r in rows]


def _write_turn(db: sqlite3.Connection, state: ConversationState, entries: list[TranscriptEntry]) -> bool:
    """False, writing nothing, when the row no longer has the version ``state`` was loaded at."""
    customer_id = state.customer.customer_id if state.customer else None
    cur = db.execute(
        "UPDATE conversations SET state = ?, customer_id = ?, status = ?, updated_at = ?,"
        " version = version + 1 WHERE id = ? AND version = ?",
        (state.model_dump_json(), customer_id, state.status, state.updated_at, state.conversation_id, state._version),
    )
    if cur.rowcount != 1:
        return False  # the transaction commits having changed nothing
    (last,) = db.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM transcript WHERE conversation_id = ?", (state.conversation_id,)
    ).fetchone()
    rows = []
    for offset, entry in enumerate(entries, start=1):
        entry.seq = last + offset
        rows.append((state.conversation_id, entry.seq, entry.model_dump_json()))
    db.executemany("INSERT INTO transcript (conversation_id, seq, entry) VALUES (?, ?, ?)", rows)
    return True


def add_tool_calls(state: ConversationState, agent: str, result: SpecialistResult, trace_id: str | None) -> None:
    """Keep what the specialist reports it called, for the human's timeline when the audit is out of reach."""
    now = time.time()
    state.tool_calls.extend(
        ToolCallEvent(at=now, agent=agent, skill=result.skill, trace_id=trace_id, **call.model_dump())
        for call in result.tool_calls
    )
    del state.tool_calls[:-MAX_TOOL_CALLS]


def add_usage(state: ConversationState, who: str, usage: dict[str, Any]) -> None:
    """Add one model usage record (``Usage.as_dict`` shape) to the conversation's per-agent totals."""
    totals = state.llm_usage.setdefault(who, {})
    for key in ("calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "replies_withheld"):
        value = usage.get(key)
        if isinstance(value, int | float):
            totals[key] = round(totals.get(key, 0) + value, 8)
