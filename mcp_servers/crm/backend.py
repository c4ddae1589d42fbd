"""The CRM backend interface and its reference implementation (SQLite or PostgreSQL)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cloudevents.core.v1.event import CloudEvent

from mcp_servers._backend import ReferenceBackend, reads_together
from mcp_servers._time import iso, live_time, utcnow
from mcp_servers.crm.models import (
    CustomerView,
    Interaction,
    Interactions,
    LoggedInteraction,
    Profile,
    SentOffer,
    ServiceMessage,
)
from mcp_servers.crm.view import CustomerViewStore
from shared.database import DatabaseURL
from shared.errors import NotFound
from shared.tools import CallContext


@dataclass(frozen=True)
class NewInteraction:
    email: str
    channel: str
    topic: str
    summary: str
    outcome: str
    conversation_id: str


class CrmBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_profile(self, email: str) -> Profile: ...
    async def list_interactions(self, email: str, limit: int) -> Interactions: ...
    async def log_interaction(self, new: NewInteraction, key: str, call: CallContext) -> LoggedInteraction: ...
    async def send_offer(self, email: str, offer_id: str, channel: str, key: str, call: CallContext) -> SentOffer: ...
    async def get_customer_view(self, customer_id: str) -> CustomerView: ...
    async def send_service_message(
        self, email: str, channel: str, text: str, key: str, call: CallContext
    ) -> ServiceMessage: ...


def _no_customer(email: str) -> NotFound:
    return NotFound(f"no CRM customer with email {email}", hint="check the email on the verified customer's keys")


class ReferenceCrmBackend(ReferenceBackend):
    system = "crm"

    def __init__(self, where: Path | DatabaseURL) -> None:
        super().__init__(where)
        self.view = CustomerViewStore(self)

    async def get_customer_view(self, customer_id: str) -> CustomerView:
        return await self.view.get(customer_id)

    async def apply_event(self, event: CloudEvent) -> bool:
        return await self.view.apply(event)

    async def _require(self, email: str) -> None:
        if await self.fetchone("SELECT 1 FROM profiles WHERE email = ?", (email,)) is None:
            raise _no_customer(email)

    async def get_profile(self, email: str) -> Profile:
        row = await self.fetchone("SELECT * FROM profiles WHERE email = ?", (email.lower(),))
        if row is None:
            raise _no_customer(email)
        return Profile(**dict(row))

    @reads_together
    async def list_interactions(self, email: str, limit: int) -> Interactions:
        email = email.lower()
        await self._require(email)
        rows = await self.fetchall("SELECT * FROM interactions WHERE email = ?", (email,))
        now = utcnow()
        found = [
            Interaction(
                interaction_id=r["interaction_id"],
                channel=r["channel"],
                started_at=r["started_at"] or live_time(r["age_minutes"], now=now),
                topic=r["topic"],
                summary=r["summary"],
                outcome=r["outcome"],
                conversation_id=r["conversation_id"],
            )
            for r in rows
        ]
        found.sort(key=lambda x: x.started_at, reverse=True)
        return Interactions(interactions=found[:limit])

    async def log_interaction(self, new: NewInteraction, key: str, call: CallContext) -> LoggedInteraction:
        email = new.email.lower()

        async def write() -> dict[str, str]:
            # In the write's own transaction: one trip to the database, not a read and then a write.
            await self._require(email)
            interaction_id = f"INT-{secrets.token_hex(5).upper()}"
            await self.execute(
                "INSERT INTO interactions (interaction_id, email, channel, started_at, topic, summary,"
                " outcome, conversation_id, agent, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    interaction_id,
                    email,
                    new.channel,
                    iso(utcnow()),
                    new.topic,
                    new.summary,
                    new.outcome,
                    new.conversation_id,
                    call.agent,
                    call.audit_id,
                ),
            )
            return {"interaction_id": interaction_id}

        args = {**new.__dict__, "email": email}
        return LoggedInteraction.model_validate(await self.idempotent("log_interaction", key, args, write))

    async def send_offer(self, email: str, offer_id: str, channel: str, key: str, call: CallContext) -> SentOffer:
        email = email.lower()

        async def write() -> dict[str, str]:
            await self._require(email)
            sent = {
                "message_id": f"OFR-{secrets.token_hex(5).upper()}",
                "offer_id": offer_id,
                "channel": channel,
                "sent_at": iso(utcnow()),
            }
            await self.execute(
                "INSERT INTO offers_sent VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sent["message_id"], email, offer_id, channel, sent["sent_at"], call.agent, call.audit_id),
            )
            return sent

        args = {"email": email, "offer_id": offer_id, "channel": channel}
        return SentOffer.model_validate(await self.idempotent("send_offer", key, args, write))

    async def send_service_message(
        self, email: str, channel: str, text: str, key: str, call: CallContext
    ) -> ServiceMessage:
        email = email.lower()

        async def write() -> dict[str, str]:
            await self._require(email)
            message_id = f"MSG-{secrets.token_hex(5).upper()}"
            sent = ServiceMessage(message_id=message_id, channel=channel, sent_at=iso(utcnow()))
            await self.execute(
                "INSERT INTO service_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sent.message_id, email, channel, text, sent.sent_at, call.agent, call.audit_id, call.conversation_id),
            )
            return sent.model_dump()

        args = {"email": email, "channel": channel, "text": text}
        return ServiceMessage.model_validate(await self.idempotent("send_service_message", key, args, write))
