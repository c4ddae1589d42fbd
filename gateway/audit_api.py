"""Read-only audit endpoints for compliance staff under ``/governance/audit``.

| route | what |
|---|---|
| ``GET /governance/audit/traces`` | tool-call decisions, newest first, each with its outcome (filters, paging) |
| ``GET /governance/audit/verify`` | the hash chain and its signed checkpoints: intact, or the first broken record |
| ``GET /governance/audit/records/{id}/explain`` | one decision: inputs, policies, human, the conversation's calls |
| ``GET /governance/audit/export?format=csv|json`` | every trace the filters select, streamed as a download |
| ``GET /governance/audit/export?format=chain`` | the whole chain, checkpoints and a signed seal (``audit_export``) |
| ``GET /governance/audit/public-key`` | the audit public key (PEM), for anyone: it verifies checkpoints and exports |

Only ``compliance`` and ``admin`` staff tokens may read, except that a human agent (``agent``,
``approver``) may read the traces of one conversation, the case they work on. Every read of
traces or of an explanation is an audit record too (``read-traces``, ``read-explanation``). Any other
caller, and any agent token, is refused with 403 and the refusal is itself an audit record,
as is every export (who took which slice of the log out). The reading itself lives in
``audit_traces``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.approval_flow import ApprovalDesk
from gateway.audit_export import chain_export
from gateway.audit_reader import AuditLocation
from gateway.audit_traces import (
    FILTER_PARAMS,
    PAGE_DEFAULT,
    PAGE_MAX,
    chain_status,
    csv_export,
    int_param,
    json_export,
    parse_filter,
    read_traces,
)
from gateway.checkpoints import CHECKPOINTS_FILE
from gateway.explain import explain
from gateway.gateway import Gateway
from shared.audit import digest
from shared.authcontext import public_pem_from_private
from shared.errors import Forbidden, InvalidRequest, SwitchboardError, Unauthenticated

AUDIT_ROLES = frozenset({"compliance", "admin"})
# A human agent working a case may read that one conversation's decisions (the hydrated
# packet's timeline), never the log at large, exports, or explanations across customers.
CASE_ROLES = frozenset({"agent", "supervisor", "approver"})
_RECORD_ID = re.compile(r"^[0-9a-f]{32}$")
READ_LOG_WINDOW = 600.0
"""Seconds within which one person's repeated read of the same slice is logged once."""


class Staff(BaseModel):
    name: str
    role: str


def build_audit_routes(
    holder: Callable[[], tuple[Gateway, ApprovalDesk]],
    staff_tokens: Mapping[str, Mapping[str, str]],
    service_agent: Callable[[str], Awaitable[str | None]],
    *,
    audit_db: Path,
    checkpoint_private_pem: str | None = None,
    location: AuditLocation | None = None,
    witness: Path | None = None,
) -> list[Route]:
    """The routes above; ``holder`` gives the running gateway (for recording refusals and exports)."""
    staff = [(name, cred["token"].encode(), cred["role"]) for name, cred in staff_tokens.items()]
    public_pem = public_pem_from_private(checkpoint_private_pem.encode()).decode() if checkpoint_private_pem else None
    # The log is read where it lives (``location``: the PostgreSQL database when the gateway
    # runs on one); the signed checkpoints are always the file beside ``audit_db``.
    db: AuditLocation = location if location is not None else Path(audit_db)
    checkpoints = Path(audit_db).parent / CHECKPOINTS_FILE

    async def record(who: str, action: str, args: dict[str, Any], decision: str, reason: str) -> None:
        gateway, _ = holder()
        await gateway.store.append(
            kind="decision",
            decision=decision,
            agent=who,
            tool=f"governance.{action}",
            arguments=args,
            arguments_digest=digest(args),
            policy_ids=["staff-api"],
            reason=reason,
        )

    recent_reads: dict[tuple[str, str], float] = {}

    async def read_logged(who: Staff, action: str, args: dict[str, Any]) -> None:
        """Reading the log is itself logged: who read which traces or which explanation.

        The same person reading the same slice again within ``READ_LOG_WINDOW`` (a console
        refreshing a case) is one record, so the log records readers without drowning in them.
        """
        key, now = (who.name, f"{action}:{digest(args)}"), time.monotonic()
        if now - recent_reads.get(key, -READ_LOG_WINDOW) < READ_LOG_WINDOW:
            return
        if len(recent_reads) > 10_000:
            recent_reads.clear()
        recent_reads[key] = now
        await record(f"staff:{who.name}", action, args, "allow", f"{action} by {who.name} ({who.role})")

    async def authenticate(request: Request, action: str, roles: frozenset[str] = AUDIT_ROLES) -> Staff:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        presented = token.strip().encode()
        if scheme.lower() != "bearer" or not presented:
            raise Unauthenticated("staff credentials are required", hint="send Authorization: Bearer <staff token>")
        found = None
        for name, expected, role in staff:
            if hmac.compare_digest(presented, expected):
                found = Staff(name=name, role=role)
        if found is None:
            agent = await service_agent(presented.decode())
            if agent is not None:
                await record(f"agent:{agent}", action, {}, "deny", "agents may not read the audit log")
                raise Forbidden("agents may not read the audit log")
            raise Unauthenticated("unknown staff token", hint="use a staff token from the deployment's secrets")
        if found.role not in roles:
            await record(
                f"staff:{found.name}", action, {"role": found.role}, "deny", f"role {found.role} may not {action}"
            )
            raise Forbidden(f"role {found.role!r} may not {action}", hint=f"needs one of {', '.join(sorted(roles))}")
        return found

    def endpoint(
        action: str, handler: Callable[[Request, Staff], Awaitable[Response]], roles: frozenset[str] = AUDIT_ROLES
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request, await authenticate(request, action, roles))
            except SwitchboardError as exc:
                return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

        return run

    async def traces(request: Request, who: Staff) -> Response:
        params = request.query_params
        flt = parse_filter(params, allowed=FILTER_PARAMS | {"before", "limit"})
        if who.role not in AUDIT_ROLES and not flt.conversation:
            reason = f"role {who.role} may read the decisions of one conversation only"
            await record(f"staff:{who.name}", "read traces", {"role": who.role}, "deny", reason)
            raise Forbidden(reason, hint="filter by conversation=<id>, or ask compliance staff")
        before = int_param(params, "before", None, 1, 2**62)
        limit = int_param(params, "limit", PAGE_DEFAULT, 1, PAGE_MAX) or PAGE_DEFAULT
        await read_logged(who, "read-traces", {"filters": flt.public(), "before": before})
        page = await asyncio.to_thread(read_traces, db, flt, before=before, limit=limit)
        return JSONResponse(page.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    async def verify(request: Request, who: Staff) -> Response:
        status = await asyncio.to_thread(chain_status, db, public_pem, checkpoints, witness)
        return JSONResponse(status.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    async def explain_record(request: Request, who: Staff) -> Response:
        record_id = request.path_params["record_id"]
        if not _RECORD_ID.match(record_id):
            raise InvalidRequest("an audit record id is 32 lowercase hex characters")
        explained = await asyncio.to_thread(explain, db, record_id)  # NotFound first: a miss reads nothing
        await read_logged(who, "read-explanation", {"record_id": record_id})
        return JSONResponse(explained, headers={"Cache-Control": "no-store"})

    async def export(request: Request, who: Staff) -> Response:
        params = request.query_params
        fmt = params.get("format", "csv")
        if fmt not in ("csv", "json", "chain"):
            raise InvalidRequest(f"unknown export format {fmt!r}", hint="use format=csv, json or chain")
        if fmt == "chain":
            return await export_chain(request, who)
        flt = parse_filter(params, allowed=FILTER_PARAMS | {"format"})
        exported_at = datetime.now(UTC)
        # Recorded before any row leaves: the log shows who took which slice of it.
        await record(
            f"staff:{who.name}",
            "audit-export",
            {"format": fmt, "filters": flt.public()},
            "allow",
            f"audit export ({fmt}) by {who.name}",
        )
        stamp = exported_at.strftime("%Y%m%dT%H%M%SZ")
        headers = {
            "Content-Disposition": f'attachment; filename="switchboard-audit-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        body = csv_export(db, flt) if fmt == "csv" else json_export(db, flt, who.name, exported_at)
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        return StreamingResponse(body, media_type=media, headers=headers)

    async def export_chain(request: Request, who: Staff) -> Response:
        if set(request.query_params) - {"format"}:
            raise InvalidRequest("the verifiable export is the whole chain: it takes no filters")
        if checkpoint_private_pem is None:
            raise InvalidRequest("this gateway signs no checkpoints, so it cannot seal a verifiable export")
        exported_at = datetime.now(UTC)
        await record(
            f"staff:{who.name}", "audit-export", {"format": "chain"}, "allow", f"audit export (chain) by {who.name}"
        )
        stamp = exported_at.strftime("%Y%m%dT%H%M%SZ")
        body = chain_export(
            db,
            private_pem=checkpoint_private_pem,
            checkpoints=checkpoints,
            witness=witness,
            exported_by=who.name,
            exported_at=exported_at,
        )
        headers = {
            "Content-Disposition": f'attachment; filename="switchboard-audit-chain-{stamp}.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(body, media_type="application/json", headers=headers)

    async def public_key(request: Request) -> Response:
        if public_pem is None:
            return JSONResponse({"error": {"code": "not_found", "message": "this gateway signs no checkpoints"}}, 404)
        return Response(public_pem, media_type="application/x-pem-file", headers={"Cache-Control": "no-cache"})

    p = "/governance/audit"
    return [
        Route(f"{p}/public-key", public_key, methods=["GET"]),
        Route(f"{p}/traces", endpoint("read audit traces", traces, AUDIT_ROLES | CASE_ROLES), methods=["GET"]),
        Route(f"{p}/verify", endpoint("verify the audit chain", verify), methods=["GET"]),
        Route(
            f"{p}/records/{{record_id}}/explain", endpoint("explain an audit record", explain_record), methods=["GET"]
        ),
        Route(f"{p}/export", endpoint("export audit traces", export), methods=["GET"]),
    ]
