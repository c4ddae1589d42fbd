"""A gateway, or the payments and consent systems, in a process of its own that can die on cue.

Run as ``python -m tests.governance.crash_child CONFIG.json``. Before serving, hooks are
wrapped around the steps of a refund; when the trigger file names a step as the process
reaches it, the process ends with ``os._exit`` right there: no ``finally``, no shutdown, no
flush — what a ``kill -9`` at that instant leaves behind. Listening sockets are inherited
from the test (``pass_fds``), so a restarted process answers on the same port.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

CRASH_EXIT = 70


def _dies_at(trigger: Path, step: str) -> None:
    if trigger.exists() and trigger.read_text().strip() == step:
        os._exit(CRASH_EXIT)


def _arm_gateway(trigger: Path) -> None:
    from gateway.approval_flow import ApprovalDesk
    from gateway.audit_store import AuditStore
    from gateway.upstream import UpstreamLink

    call, append_now, execute = UpstreamLink.call, AuditStore.append_now, ApprovalDesk.execute

    async def link_call(
        self: UpstreamLink, tool: str, arguments: dict[str, Any], meta: dict[str, Any], **options: Any
    ) -> Any:
        if tool == "issue_refund":
            _dies_at(trigger, "gateway:after-intent")  # the allow record is committed, nothing sent
        result = await call(self, tool, arguments, meta, **options)
        if tool == "issue_refund":
            _dies_at(trigger, "gateway:after-upstream")  # refunded upstream, no outcome record
        return result

    def append(self: AuditStore, **fields: Any) -> Any:
        record = append_now(self, **fields)
        if fields.get("kind") == "outcome" and fields.get("tool") == "payments.issue_refund":
            _dies_at(trigger, "gateway:after-outcome")  # recorded, but the agent never hears back
        return record

    async def run_approved(self: ApprovalDesk, approval: Any) -> None:
        _dies_at(trigger, "gateway:approved-not-run")  # a human approved; the call has not run yet
        await execute(self, approval)

    UpstreamLink.call = link_call  # type: ignore[method-assign]
    AuditStore.append_now = append  # type: ignore[method-assign]
    ApprovalDesk.execute = run_approved  # type: ignore[method-assign]


def _arm_payments(trigger: Path) -> None:
    from mcp_servers.payments.backend import ReferencePaymentsBackend

    issue = ReferencePaymentsBackend.issue_refund

    async def issue_refund(self: ReferencePaymentsBackend, *args: Any) -> Any:
        refund = await issue(self, *args)
        _dies_at(trigger, "payments:after-commit")  # the refund is committed, the answer never leaves
        return refund

    ReferencePaymentsBackend.issue_refund = issue_refund  # type: ignore[method-assign]


async def _serve(config: dict[str, Any]) -> None:
    from shared.serving import start

    trigger = Path(config["trigger"])
    apps = {}
    if config["role"] == "gateway":
        from gateway import build_gateway_app

        _arm_gateway(trigger)
        apps["gateway"] = build_gateway_app(**config["gateway"], audit_db=Path(config["audit_db"]))
    else:
        from mcp_servers import build_app

        _arm_payments(trigger)
        for system in ("payments", "consent"):
            apps[system] = build_app(system, data_dir=Path(config["data_dir"]), gateway_token=config["gateway_token"])
    for name, app in apps.items():
        sock = socket.socket(fileno=config["fds"][name])
        await start(name, app, sock)
    print("ready", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(Path(sys.argv[1]).read_text())))
