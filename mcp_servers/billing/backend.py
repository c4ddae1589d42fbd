"""The billing backend interface and its reference implementation (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mcp_servers._backend import ReferenceBackend, pence, pounds, reads_together
from mcp_servers._database import Row
from mcp_servers._time import iso, utcnow
from mcp_servers.billing.models import (
    Account,
    Contract,
    Entitlements,
    Invoice,
    InvoiceLine,
    Invoices,
    Plan,
    PlanChange,
    Plans,
)
from shared.errors import InvalidRequest, NotFound
from shared.events import INVOICE_ISSUED, PLAN_CHANGED
from shared.tools import CallContext


class BillingBackend(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def get_account(self, msisdn: str) -> Account: ...
    async def list_invoices(self, msisdn: str, limit: int) -> Invoices: ...
    async def list_plans(self) -> Plans: ...
    async def get_entitlements(self, msisdn: str) -> Entitlements: ...
    async def change_plan(self, msisdn: str, plan_id: str, key: str, call: CallContext) -> PlanChange: ...
    async def issue_invoice(self, new: NewInvoice, key: str, call: CallContext) -> Invoice: ...
    async def get_contract(self, msisdn: str) -> Contract: ...


def months_between(today: date, ends: date) -> int:
    """Months still to pay from ``today`` to ``ends``, a part month counting as one; 0 once ended."""
    if ends <= today:
        return 0
    months = (ends.year - today.year) * 12 + (ends.month - today.month)
    return months + (1 if ends.day > today.day else 0)


def _plan(row: Row) -> Plan:
    return Plan(
        plan_id=row["plan_id"],
        name=row["name"],
        monthly_fee=pounds(row["monthly_fee_pence"]),
        data_gb=row["data_gb"],
        features=json.loads(row["features"]),
    )


@dataclass(frozen=True)
class NewInvoice:
    msisdn: str
    period: str
    lines: tuple[tuple[str, float], ...]


class ReferenceBillingBackend(ReferenceBackend):
    system = "billing"

    async def _lock_account(self, msisdn: str) -> None:
        """Inside a write: on PostgreSQL, other writes to this account (any replica) wait for ours."""
        if self.lock_rows:
            await self.fetchone(f"SELECT 1 FROM accounts WHERE msisdn = ?{self.lock_rows}", (msisdn,))

    async def _account(self, msisdn: str) -> Row:
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

    @reads_together
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

    @reads_together
    async def get_contract(self, msisdn: str) -> Contract:
        account = await self._account(msisdn)
        row = await self.fetchone("SELECT * FROM contracts WHERE msisdn = ?", (msisdn,))
        if row is None:
            raise NotFound(f"no contract on record for {msisdn}", hint="the line may be pay as you go")
        today = utcnow().date()
        ends = date.fromisoformat(row["ends_on"])
        left = months_between(today, ends)
        return Contract(
            msisdn=msisdn,
            plan_name=account["name"],
            started_on=row["started_on"],
            term_months=row["term_months"],
            ends_on=row["ends_on"],
            in_minimum_term=left > 0,
            months_remaining=left,
            early_exit_fee=pounds(left * row["exit_fee_per_month_pence"]),
            exit_fee_per_month=pounds(row["exit_fee_per_month_pence"]),
            notice_days=row["notice_days"],
        )

    @reads_together
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
            await self._lock_account(msisdn)
            current = await self._account(msisdn)
            plan = await self.fetchone("SELECT * FROM plans WHERE plan_id = ?", (plan_id,))
            if plan is None:
                raise NotFound(f"no plan {plan_id}", hint="list_plans gives the plan ids on offer")
            if current["plan_id"] == plan_id:
                raise InvalidRequest(
                    f"{msisdn} is already on plan {plan_id}",
                    hint="nothing to change; confirm the plan wanted",
                )
            now = iso(utcnow())
            await self.execute(
                "UPDATE accounts SET plan_id = ?, plan_updated_at = ? WHERE msisdn = ?",
                (plan_id, now, msisdn),
            )
            change_id = f"PC-{secrets.token_hex(5).upper()}"
            await self.execute(
                "INSERT INTO plan_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    change_id,
                    msisdn,
                    current["plan_id"],
                    plan_id,
                    now,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            changed = _plan(plan)
            await self.emit(
                PLAN_CHANGED,
                {
                    "msisdn": msisdn,
                    "change_id": change_id,
                    "old_plan_id": current["plan_id"],
                    "new_plan_id": plan_id,
                    "plan_name": changed.name,
                    "features": changed.features,
                    "data_gb": changed.data_gb,
                    "effective_from": now,
                },
                subject=call.customer_id,
            )
            return PlanChange(old_plan_id=current["plan_id"], new_plan_id=plan_id, effective_from=now).model_dump()

        args = {"msisdn": msisdn, "plan_id": plan_id}
        return PlanChange.model_validate(await self.idempotent("change_plan", key, args, write))

    async def issue_invoice(self, new: NewInvoice, key: str, call: CallContext) -> Invoice:
        """The billing run: a new unpaid invoice for the period (what a bill cycle does)."""
        if not new.lines:
            raise InvalidRequest("an invoice needs at least one line", hint="send lines as [description, amount]")

        async def write() -> dict[str, object]:
            await self._lock_account(new.msisdn)
            await self._account(new.msisdn)
            if await self.fetchone("SELECT 1 FROM invoices WHERE msisdn = ? AND period = ?", (new.msisdn, new.period)):
                raise InvalidRequest(
                    f"{new.msisdn} already has an invoice for {new.period}", hint="list_invoices shows it"
                )
            invoice_id = f"INV-{secrets.token_hex(5).upper()}"
            total = sum(pence(amount) for _, amount in new.lines)
            issued_on = iso(utcnow())[:10]
            await self.execute(
                "INSERT INTO invoices VALUES (?, ?, ?, ?, ?, 'unpaid')",
                (invoice_id, new.msisdn, new.period, issued_on, total),
            )
            await self.executemany(
                "INSERT INTO invoice_lines VALUES (?, ?, ?, ?)",
                [(invoice_id, i, text, pence(amount)) for i, (text, amount) in enumerate(new.lines, start=1)],
            )
            invoice = Invoice(
                invoice_id=invoice_id,
                period=new.period,
                issued_on=issued_on,
                total=pounds(total),
                status="unpaid",
                lines=[InvoiceLine(description=text, amount=amount) for text, amount in new.lines],
            )
            await self.emit(
                INVOICE_ISSUED,
                {"msisdn": new.msisdn, **invoice.model_dump(exclude={"lines"})},
                subject=call.customer_id,
            )
            return invoice.model_dump()

        args = {"msisdn": new.msisdn, "period": new.period, "lines": [list(line) for line in new.lines]}
        return Invoice.model_validate(await self.idempotent("issue_invoice", key, args, write))
