"""The support backend interface and its reference implementation (SQLite FTS5 or PostgreSQL full-text search)."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._backend import reads_together
from mcp_servers._time import iso, utcnow
from mcp_servers.support.contact import follow_contact_change
from mcp_servers.support.models import Article, Articles, Handoff, OpenedTicket, Ticket, Tickets
from mcp_servers.support.orders import Order, OrderBook, Orders
from shared.errors import InvalidRequest, NotFound
from shared.events import CONTACT_CHANGED, TICKET_UPDATED
from shared.tools import CallContext

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "up",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    )
)
# The knowledge search per dialect, best match first. SQLite: bm25 with column weights title 8,
# summary 3, body 1, tags 5 (article_id unindexed; bm25 is negative, lower is better).
# PostgreSQL: ts_rank with the same weights scaled to 1 (D body, C summary, B tags, A title).
_SEARCH = {
    "sqlite": "SELECT a.*, -bm25(articles_fts, 0.0, 8.0, 3.0, 1.0, 5.0) AS score"
    " FROM articles_fts JOIN articles a USING (article_id)"
    " WHERE articles_fts MATCH ? ORDER BY score DESC LIMIT ?",
    "postgresql": "SELECT a.*, ts_rank('{0.125, 0.375, 0.625, 1.0}', f.document, q.query) AS score"
    " FROM articles_fts f JOIN articles a USING (article_id), to_tsquery('english', ?) AS q(query)"
    " WHERE f.document @@ q.query ORDER BY score DESC, a.article_id LIMIT ?",
}


@dataclass(frozen=True)
class NewTicket:
    email: str
    category: str
    summary: str
    priority: str
    repeat_of: str | None


@dataclass(frozen=True)
class HumanRequest:
    conversation_id: str
    reason: str
    summary: str
    priority: str
    email: str | None


class SupportBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def search_knowledge(self, query: str, limit: int) -> Articles: ...
    async def list_tickets(self, email: str, status: str) -> Tickets: ...
    async def open_ticket(self, new: NewTicket, key: str, call: CallContext) -> OpenedTicket: ...
    async def request_human(self, request: HumanRequest, key: str, call: CallContext) -> Handoff: ...
    async def close_ticket(self, email: str, ticket_id: str, key: str, call: CallContext) -> OpenedTicket: ...
    async def list_orders(self, email: str) -> Orders: ...
    async def cancel_order(self, email: str, order_id: str, key: str, call: CallContext) -> Order: ...
    async def change_delivery(self, email: str, order_id: str, option: str, key: str, call: CallContext) -> Order: ...


def match_expression(query: str, dialect: str = "sqlite") -> str | None:
    """An OR-query of the query's meaningful words: FTS5 syntax (quoted, so no FTS syntax leaks
    in) or a PostgreSQL tsquery (the words are letters and digits only)."""
    words = [w for w in _WORD.findall(query.lower()) if w not in _STOPWORDS]
    unique = list(dict.fromkeys(words))[:16]
    if dialect == "postgresql":
        return " | ".join(unique) or None
    return " OR ".join(f'"{w}"' for w in unique) or None


class ReferenceSupportBackend(OrderBook):
    system = "support"
    event_kinds = (CONTACT_CHANGED,)

    async def apply_event(self, event: CloudEvent) -> bool:
        """Follow identity's contact changes (the only events support reads)."""
        return await follow_contact_change(self, event)

    async def _require(self, email: str) -> None:
        if await self.fetchone("SELECT 1 FROM customers WHERE email = ?", (email,)) is None:
            raise NotFound(f"no support customer with email {email}", hint="check the verified customer's email")

    async def search_knowledge(self, query: str, limit: int) -> Articles:
        expression = match_expression(query, self.dialect)
        if expression is None:
            return Articles(articles=[])
        rows = await self.fetchall(_SEARCH[self.dialect], (expression, limit))
        return Articles(
            articles=[
                Article(
                    article_id=r["article_id"],
                    title=r["title"],
                    summary=r["summary"],
                    steps=json.loads(r["steps"]),
                    score=round(r["score"], 3),
                )
                for r in rows
            ]
        )

    @reads_together
    async def list_tickets(self, email: str, status: str) -> Tickets:
        email = email.lower()
        await self._require(email)
        sql = "SELECT * FROM tickets WHERE email = ?"
        params: tuple[str, ...] = (email,)
        if status != "any":
            sql += " AND status = ?"
            params += (status,)
        rows = await self.fetchall(sql + " ORDER BY opened_at DESC", params)
        return Tickets(
            tickets=[
                Ticket(
                    ticket_id=r["ticket_id"],
                    category=r["category"],
                    summary=r["summary"],
                    status=r["status"],
                    priority=r["priority"],
                    opened_at=r["opened_at"],
                    repeat_of=r["repeat_of"],
                )
                for r in rows
            ]
        )

    async def open_ticket(self, new: NewTicket, key: str, call: CallContext) -> OpenedTicket:
        email = new.email.lower()

        async def write() -> dict[str, str]:
            # In the write's own transaction: one trip to the database, not a read and then a write.
            await self._require(email)
            ticket = OpenedTicket(ticket_id=f"TCK-{secrets.token_hex(4).upper()}", status="open", priority=new.priority)
            await self.execute(
                "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ticket.ticket_id,
                    email,
                    new.category,
                    new.summary,
                    ticket.status,
                    new.priority,
                    iso(utcnow()),
                    new.repeat_of,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            await self.emit(
                TICKET_UPDATED,
                {"email": email, **ticket.model_dump(), "category": new.category, "summary": new.summary},
                subject=call.customer_id,
            )
            return ticket.model_dump()

        args = {**new.__dict__, "email": email}
        return OpenedTicket.model_validate(await self.idempotent("open_ticket", key, args, write))

    async def request_human(self, request: HumanRequest, key: str, call: CallContext) -> Handoff:
        email = request.email.lower() if request.email else None

        async def write() -> dict[str, object]:
            if email is not None:
                await self._require(email)
            handoff_id = f"HO-{secrets.token_hex(4).upper()}"
            await self.execute(
                "INSERT INTO handoffs (handoff_id, conversation_id, email, reason, summary, priority, status,"
                " created_at, agent, audit_id) VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)",
                (
                    handoff_id,
                    request.conversation_id,
                    email,
                    request.reason,
                    request.summary,
                    request.priority,
                    iso(utcnow()),
                    call.agent,
                    call.audit_id,
                ),
            )
            ahead = await self.fetchone(
                "SELECT COUNT(*) AS n FROM handoffs WHERE status = 'waiting'"
                " AND seq <= (SELECT seq FROM handoffs WHERE handoff_id = ?)",
                (handoff_id,),
            )
            return Handoff(handoff_id=handoff_id, queue_position=ahead["n"] if ahead else 1).model_dump()

        args = {**request.__dict__, "email": email}
        return Handoff.model_validate(await self.idempotent("request_human", key, args, write))

    async def close_ticket(self, email: str, ticket_id: str, key: str, call: CallContext) -> OpenedTicket:
        email = email.lower()

        async def write() -> dict[str, str]:
            row = await self.fetchone(
                f"SELECT * FROM tickets WHERE ticket_id = ? AND email = ?{self.lock_rows}", (ticket_id, email)
            )
            if row is None:
                raise NotFound(f"no ticket {ticket_id} for {email}", hint="list_tickets gives the ticket ids")
            if row["status"] == "closed":
                raise InvalidRequest(f"ticket {ticket_id} is already closed", hint="nothing to do")
            await self.execute("UPDATE tickets SET status = 'closed' WHERE ticket_id = ?", (ticket_id,))
            ticket = OpenedTicket(ticket_id=ticket_id, status="closed", priority=row["priority"])
            await self.emit(
                TICKET_UPDATED,
                {"email": email, **ticket.model_dump(), "category": row["category"], "summary": row["summary"]},
                subject=call.customer_id,
            )
            return ticket.model_dump()

        args = {"email": email, "ticket_id": ticket_id}
        return OpenedTicket.model_validate(await self.idempotent("close_ticket", key, args, write))
