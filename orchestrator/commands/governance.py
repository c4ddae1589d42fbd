"""Staff commands against a running gateway's governance API (approvals, kill switch, policy modes, holds, erasure).

Each command authenticates as a staff account from the data directory's secrets (one per role
by default) or as ``--staff NAME``; the gateway records who did what.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from orchestrator.commands import _policy_check, add_command
from orchestrator.commands._common import add_common, settings_from

if TYPE_CHECKING:
    from shared.secrets import StaffRole


def _client(args: argparse.Namespace, role: StaffRole) -> tuple[str, dict[str, str]]:
    from shared.secrets import Secrets
    from shared.settings import Topology

    settings = settings_from(args)
    if not (settings.data_dir / "secrets.json").exists():
        raise SystemExit(f"no secrets in {settings.data_dir}: start the system first (switchboard up)")
    secrets = Secrets.load_or_create(settings.data_dir)
    if args.staff:
        cred = secrets.staff_tokens.get(args.staff)
        if cred is None:
            raise SystemExit(f"no staff account {args.staff!r}; known: {', '.join(secrets.staff_tokens)}")
        token = cred.token
    else:
        _, token = secrets.staff_token(role)
    url = args.gateway_url or Topology.embedded(settings.host, settings.base_port).gateway
    return url.rstrip("/") + "/governance", {"Authorization": f"Bearer {token}"}


def _call(args: argparse.Namespace, role: StaffRole, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    import httpx

    base, headers = _client(args, role)
    try:
        response = httpx.request(method, base + path, json=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        print(f"the gateway at {base} is not answering ({exc}); is `switchboard up` running?", file=sys.stderr)
        return 2
    data = response.json()
    if response.status_code >= 400:
        error = data.get("error", {})
        hint = f" ({error['hint']})" if error.get("hint") else ""
        print(f"refused: {error.get('message', response.text)}{hint}", file=sys.stderr)
        return 1
    print(json.dumps(data, indent=2))
    return 0


def cmd_approvals(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _call(args, "approver", "GET", "/approvals" + (f"?status={args.status}" if args.status else ""))
    if not args.approval_id:
        print(f"approvals {args.action} needs an approval id", file=sys.stderr)
        return 2
    return _call(args, "approver", "POST", f"/approvals/{args.approval_id}/{args.action}", {"note": args.note})


def _weakening(args: argparse.Namespace) -> dict[str, Any]:
    """How long a weakening lasts and why; the gateway asks for both and a second person approves."""
    return {"minutes": args.minutes, "reason": args.reason} if args.minutes is not None else {"reason": args.reason}


def cmd_kill_switch(args: argparse.Namespace) -> int:
    scope, target = ("agent", args.agent) if args.agent else ("tool", args.tool) if args.tool else ("all", None)
    body = {"scope": scope, "target": target, "on": args.state == "on", "reason": args.reason}
    if args.state == "off":
        body.update(_weakening(args))
    return _call(args, "admin", "POST", "/kill-switch", body)


def cmd_policy(args: argparse.Namespace) -> int:
    if args.policy_id is None:
        return _call(args, "compliance", "GET", "/policies")
    body: dict[str, Any] = {"mode": args.mode}
    if args.mode == "log-only":
        body.update(_weakening(args))
    return _call(args, "compliance", "POST", f"/policies/{args.policy_id}/mode", body)


def cmd_policy_reload(args: argparse.Namespace) -> int:
    """A reload that removes or weakens a protective policy becomes a request a second person approves."""
    return _call(args, "compliance", "POST", "/policies/reload", _weakening(args))


def cmd_fraud_hold(args: argparse.Namespace) -> int:
    if args.action == "set":
        return _call(args, "compliance", "POST", f"/fraud-holds/{args.customer}", {"reason": args.reason})
    return _call(args, "compliance", "DELETE", f"/fraud-holds/{args.customer}", _weakening(args))


def cmd_changes(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _call(args, "compliance", "GET", "/changes" + (f"?status={args.status}" if args.status else ""))
    if not args.change_id:
        print(f"changes {args.action} needs a change id (CHG-…)", file=sys.stderr)
        return 2
    return _call(args, "compliance", "POST", f"/changes/{args.change_id}/{args.action}", {})


def cmd_erase(args: argparse.Namespace) -> int:
    """The gateway erases the raw audit values first (and records who erased whom), then every other store."""
    from orchestrator.privacy import erase_all, locate
    from shared.errors import ServiceUnavailable, SwitchboardError

    settings = settings_from(args)
    data_dir = settings.data_dir
    try:
        customer = locate(data_dir, settings.database_url, args.customer)
    except SwitchboardError as exc:
        print(f"{exc.message}; {exc.hint or ''}", file=sys.stderr)
        return 2 if isinstance(exc, ServiceUnavailable) else 1
    body = {"identifiers": [customer.email, customer.msisdn, customer.account_number]}
    status = _call(args, "compliance", "POST", f"/customers/{args.customer}/erase", body)
    if status != 0:
        return status
    try:
        report = erase_all(data_dir, settings.database_url, customer)
    except SwitchboardError as exc:
        print(f"{exc.message}; {exc.hint or ''}", file=sys.stderr)
        return 2
    for system, count in sorted(report.cells.items()):
        print(f"  {system}: {count} values replaced by pseudonyms")
    if report.wal_left:
        print(f"these files' write-ahead logs were busy, run erase-customer again: {', '.join(report.wal_left)}")
        return 1
    return 0


def cmd_subject_access(args: argparse.Namespace) -> int:
    """Everything held about one customer, as an archive; recorded at the gateway before anything is read."""
    from pathlib import Path

    from orchestrator.privacy import collect_everywhere, locate, write_archive
    from shared.errors import ServiceUnavailable, SwitchboardError

    settings = settings_from(args)
    data_dir = settings.data_dir
    try:
        customer = locate(data_dir, settings.database_url, args.customer)
    except SwitchboardError as exc:
        print(f"{exc.message}; {exc.hint or ''}", file=sys.stderr)
        return 2 if isinstance(exc, ServiceUnavailable) else 1
    status = _call(args, "compliance", "POST", f"/customers/{args.customer}/subject-access", {"reason": args.reason})
    if status != 0:
        return status
    who = args.staff or "compliance"
    try:
        found = collect_everywhere(data_dir, settings.database_url, customer)
    except SwitchboardError as exc:
        print(f"{exc.message}; {exc.hint or ''}", file=sys.stderr)
        return 2
    path, document = write_archive(data_dir, customer, Path(args.out), exported_by=who, found=found)
    print(f"wrote {path}: {len(document['systems'])} systems ({', '.join(sorted(document['systems']))})")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """Purge what expired: the data directory's classes here, the audit classes at the gateway."""
    from orchestrator.retention import Retention, purge_everywhere
    from shared.errors import SwitchboardError

    settings = settings_from(args)
    retention = Retention(
        transcripts_days=settings.retention_transcripts_days,
        outbox_days=settings.retention_outbox_days,
        signals_days=settings.retention_signals_days,
    )
    try:
        purged = purge_everywhere(settings.data_dir, settings.database_url, retention)
    except SwitchboardError as exc:
        print(f"{exc.message}; {exc.hint or ''}", file=sys.stderr)
        return 2
    for what, count in sorted(purged.counts.items()):
        print(f"  {what}: {count} purged")
    return _call(args, "compliance", "POST", "/retention", {})


def _common(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--gateway-url", help="the gateway's base URL (default: the embedded layout's)")
    p.add_argument("--staff", help="act as this staff account (default: the first with the needed role)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = add_command(sub, "approvals")
    a.add_argument("action", choices=("list", "approve", "reject"))
    a.add_argument("approval_id", nargs="?")
    a.add_argument("--status", help="with list: pending, executed, rejected, expired, failed")
    a.add_argument("--note", help="a note recorded with the decision")
    _common(a)
    a.set_defaults(func=cmd_approvals)

    k = add_command(sub, "kill-switch")
    k.add_argument("state", choices=("on", "off"))
    group = k.add_mutually_exclusive_group()
    group.add_argument("--agent", help="only this agent")
    group.add_argument("--tool", help="only this tool, e.g. payments.issue_refund")
    k.add_argument("--reason", default="", help="why (recorded in the audit log)")
    k.add_argument("--minutes", type=int, help="with off: how long it stays off once a second person approves")
    _common(k)
    k.set_defaults(func=cmd_kill_switch)

    p = add_command(sub, "policy")
    policy_sub = p.add_subparsers(dest="policy_command", required=True)
    m = policy_sub.add_parser("mode", help="set a policy to enforce or log-only (shadow)")
    m.add_argument("policy_id", nargs="?", help="omit to list every policy and its mode")
    m.add_argument("mode", nargs="?", choices=("enforce", "log-only"))
    m.add_argument(
        "--minutes", type=int, help="log-only of a protective policy: how long, once a second person approves"
    )
    m.add_argument("--reason", default="", help="log-only of a protective policy: why (recorded in the audit log)")
    _common(m)
    m.set_defaults(func=cmd_policy)
    _policy_check.register(policy_sub)
    r = policy_sub.add_parser(
        "reload", help="make a running gateway read its policy files again (refused, with the reason, if invalid)"
    )
    r.add_argument(
        "--minutes",
        type=int,
        help="if it removes or weakens a protective policy: how long, once a second person approves",
    )
    r.add_argument("--reason", default="", help="if it removes or weakens a protective policy: why")
    _common(r)
    r.set_defaults(func=cmd_policy_reload)

    f = add_command(sub, "fraud-hold")
    f.add_argument("action", choices=("set", "lift"))
    f.add_argument("customer", help="unified customer id, e.g. CUST-00042")
    f.add_argument("--reason", default="set by staff", help="why (recorded in the audit log)")
    f.add_argument("--minutes", type=int, help="with lift: how long it stays lifted once a second person approves")
    _common(f)
    f.set_defaults(func=cmd_fraud_hold)

    r = add_command(sub, "retention")
    _common(r)
    r.set_defaults(func=cmd_retention)

    c = add_command(sub, "changes")
    c.add_argument("action", choices=("list", "approve", "reject"))
    c.add_argument("change_id", nargs="?")
    c.add_argument("--status", help="with list: pending, active, expired, ended, rejected, lapsed")
    _common(c)
    c.set_defaults(func=cmd_changes)

    e = add_command(sub, "erase-customer")
    e.add_argument("customer", help="unified customer id, e.g. CUST-00042")
    _common(e)
    e.set_defaults(func=cmd_erase)

    s = add_command(sub, "subject-access")
    s.add_argument("customer", help="unified customer id, e.g. CUST-00042")
    s.add_argument("--out", default=".", help="folder for the archive (default: here)")
    s.add_argument("--reason", required=True, help="why (the request's reference; recorded in the audit log)")
    _common(s)
    s.set_defaults(func=cmd_subject_access)
