"""The consent backend interface and its reference implementation (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Protocol

from mcp_servers._backend import ReferenceBackend
from mcp_servers._time import iso, utcnow
from mcp_servers.consent.models import ConsentChange, ConsentRecord, Consents, GrantedPurposes
from shared.errors import InvalidRequest, NotFound
from shared.events import CONSENT_CHANGED
from shared.tools import PURPOSES, CallContext


class ConsentBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_consents(self, customer_id: str) -> Consents: ...
    async def get_purposes(self, customer_id: str) -> GrantedPurposes: ...
    async def set_consent(
        self, customer_id: str, purpose: str, granted: bool, key: str, call: CallContext
    ) -> ConsentChange: ...


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidRequest(f"unknown consent purpose {purpose!r}", hint=f"use one of {', '.join(PURPOSES)}")


class ReferenceConsentBackend(ReferenceBackend):
    system = "consent"

    async def get_consents(self, customer_id: str) -> Consents:
        rows = await self.fetchall(
            "SELECT purpose, granted, updated_at, source FROM consents WHERE customer_id = ? ORDER BY purpose",
            (customer_id,),
        )
        if not rows:
            raise NotFound(f"no consent record for {customer_id}", hint="check the verified customer's customer_id")
        records = [ConsentRecord(purpose=r[0], granted=bool(r[1]), updated_at=r[2], source=r[3]) for r in rows]
        return Consents(customer_id=customer_id, purposes=[r.purpose for r in records if r.granted], records=records)

    async def get_purposes(self, customer_id: str) -> GrantedPurposes:
        rows = await self.fetchall(
            "SELECT purpose, granted FROM consents WHERE customer_id = ? ORDER BY purpose", (customer_id,)
        )
        if not rows:
            raise NotFound(f"no consent record for {customer_id}", hint="check the verified customer's customer_id")
        return GrantedPurposes(customer_id=customer_id, purposes=[r[0] for r in rows if r[1]])

    async def set_consent(
        self, customer_id: str, purpose: str, granted: bool, key: str, call: CallContext
    ) -> ConsentChange:
        _check_purpose(purpose)
        if await self.fetchone("SELECT 1 FROM consents WHERE customer_id = ? LIMIT 1", (customer_id,)) is None:
            raise NotFound(f"no consent record for {customer_id}", hint="check the verified customer's customer_id")

        async def write() -> dict[str, object]:
            row = await self.fetchone(
                f"SELECT granted FROM consents WHERE customer_id = ? AND purpose = ?{self.lock_rows}",
                (customer_id, purpose),
            )
            changed = row is None or bool(row[0]) != granted
            now = iso(utcnow())
            source = f"agent:{call.agent}"
            await self.execute(
                "INSERT INTO consents (customer_id, purpose, granted, updated_at, source) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (customer_id, purpose) DO UPDATE SET granted = excluded.granted,"
                " updated_at = excluded.updated_at, source = excluded.source",
                (customer_id, purpose, int(granted), now, source),
            )
            await self.execute(
                "INSERT INTO consent_history VALUES (?, ?, ?, ?, ?, ?)",
                (customer_id, purpose, int(granted), now, source, call.audit_id),
            )
            if changed:
                await self.emit(
                    CONSENT_CHANGED,
                    {"customer_id": customer_id, "purpose": purpose, "granted": granted, "changed_at": now},
                    subject=customer_id,
                )
            return {"customer_id": customer_id, "purpose": purpose, "granted": granted, "changed": changed}

        tool = "grant_consent" if granted else "revoke_consent"
        args = {"customer_id": customer_id, "purpose": purpose}
        return ConsentChange.model_validate(await self.idempotent(tool, key, args, write))
