"""The billing backend interface and its SQLite reference implementation."""

from __future__ import annotations

import json
import secrets
from typing import Protocol

import aiosqlite

from mcp_servers._sqlite_backend import SqliteBackend, pounds
from mcp_servers._time import iso, utcnow
from mcp_servers.billing.models import (
    Account,
    Entitlements,
    Invoice,
    InvoiceLine,
    Invoices,
    Plan,
    PlanChange,
    Plans,
)
from mcp_servers.billing.schema import SCHEMA
from shared.errors import InvalidRequest, NotFound
from shared.tools import CallContext


class BillingBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_account(self, msisdn: str) -> Account: ...
    async def list_invoices(self, msisdn: str, limit: int) -> Invoices: ...
    async def list_plans(self) -> Plans: ...
    async def get_entitlements(self, msisdn: str) -> Entitlements: ...
    async def change_plan(self, msisdn: str, plan_id: str, key: str, call: CallContext) -> PlanChange: ...


def _plan(row: aiosqlite.Row) -> Plan:
    return Plan(
        plan_id=row["plan_id"],
        name=row["name"],
        monthly_fee=pounds(row["monthly_fee_pence"]),
        data_gb=row["data_gb"],
        features=json.loads(row["features"]),
    )


class SqliteBillingBackend(SqliteBackend):
    schema = SCHEMA

    async def _account(self, msisdn: str) -> aiosqlite.Row:
        row = await self.fetchone(
            "SELECT a.*, p.name, p.monthly_fee_pence, p.data_gb, p.features FROM accounts a"
            " JOIN plans p ON p.plan_id = a.plan_id WHERE a.msisdn = ?",
            (msisdn,),
        )
        if row is None:
            raise NotFound(
                f"no billing account for {msisdn}",
                hint="use the customer's mobile number in E.164 form, e.g. +447700900123",
            )
        return row

    async def get_account(self, msisdn: str) -> Account:
        row = await self._account(msisdn)
        due = await self.fetchone(
            "SELECT COALESCE(SUM(total_pence), 0) AS due FROM invoices WHERE msisdn = ? AND status != 'paid'",
            (msisdn,),
        )
        return Account(
            msisdn=msisdn,
            plan_id=row["plan_id"],
            plan_name=row["name"],
            monthly_fee=pounds(row["monthly_fee_pence"]),
            status=row["status"],
            balance_due=pounds(due["due"] if due else 0),
            next_bill_date=row["next_bill_date"],
        )

    async def list_invoices(self, msisdn: str, limit: int) -> Invoices:
        await self._account(msisdn)
        heads = await self.fetchall(
            "SELECT * FROM invoices WHERE msisdn = ? ORDER BY issued_on DESC LIMIT ?", (msisdn, limit)
        )
        ids = [h["invoice_id"] for h in heads]
        lines: dict[str, list[InvoiceLine]] = {i: [] for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            for r in await self.fetchall(
                f"SELECT * FROM invoice_lines WHERE invoice_id IN ({marks}) ORDER BY invoice_id, line_no",
                tuple(ids),
            ):
                lines[r["invoice_id"]].append(
                    InvoiceLine(description=r["description"], amount=pounds(r["amount_pence"]))
                )
        return Invoices(
            invoices=[
                Invoice(
                    invoice_id=h["invoice_id"],
                    period=h["period"],
                    issued_on=h["issued_on"],
                    total=pounds(h["total_pence"]),
                    status=h["status"],
                    lines=lines[h["invoice_id"]],
                )
                for h in heads
            ]
        )

    async def list_plans(self) -> Plans:
        rows = await self.fetchall("SELECT * FROM plans ORDER BY monthly_fee_pence")
        return Plans(plans=[_plan(r) for r in rows])

    async def get_entitlements(self, msisdn: str) -> Entitlements:
        row = await self._account(msisdn)
        return Entitlements(
            msisdn=msisdn,
            plan_id=row["plan_id"],
            plan_name=row["name"],
            features=json.loads(row["features"]),
            data_gb=row["data_gb"],
            updated_at=row["plan_updated_at"],
        )

    async def change_plan(self, msisdn: str, plan_id: str, key: str, call: CallContext) -> PlanChange:
        async def write() -> dict[str, str]:
            current = await self._account(msisdn)
            if await self.fetchone("SELECT 1 FROM plans WHERE plan_id = ?", (plan_id,)) is None:
                raise NotFound(f"no plan {plan_id}", hint="list_plans gives the plan ids on offer")
            if current["plan_id"] == plan_id:
                raise InvalidRequest(
                    f"{msisdn} is already on plan {plan_id}",
                    hint="nothing to change; confirm the plan wanted",
                )
            now = iso(utcnow())
            await self.db.execute(
                "UPDATE accounts SET plan_id = ?, plan_updated_at = ? WHERE msisdn = ?",
                (plan_id, now, msisdn),
            )
            await self.db.execute(
                "INSERT INTO plan_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"PC-{secrets.token_hex(5).upper()}",
                    msisdn,
                    current["plan_id"],
                    plan_id,
                    now,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            return PlanChange(old_plan_id=current["plan_id"], new_plan_id=plan_id, effective_from=now).model_dump()

        args = {"msisdn": msisdn, "plan_id": plan_id}
        return PlanChange.model_validate(await self.idempotent("change_plan", key, args, write))
