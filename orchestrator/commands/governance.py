"""Staff commands against a running gateway's governance API (approvals, kill switch, policy modes, holds, erasure).

Each command authenticates as a staff account from the data directory's secrets (one per role
by default) or as ``--staff NAME``; the gateway records who did what.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from orchestrator.commands import _policy_check
from orchestrator.commands._common import add_common, settings_from


def _client(args: argparse.Namespace, role: str) -> tuple[str, dict[str, str]]:
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
        _, token = secrets.staff_token(role)  # type: ignore[arg-type]
    url = args.gateway_url or Topology.embedded(settings.host, settings.base_port).gateway
    return url.rstrip("/") + "/governance", {"Authorization": f"Bearer {token}"}


def _call(args: argparse.Namespace, role: str, method: str, path: str, body: dict[str, Any] | None = None) -> int:
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


def cmd_kill_switch(args: argparse.Namespace) -> int:
    scope, target = ("agent", args.agent) if args.agent else ("tool", args.tool) if args.tool else ("all", None)
    body = {"scope": scope, "target": target, "on": args.state == "on", "reason": args.reason}
    return _call(args, "admin", "POST", "/kill-switch", body)


def cmd_policy(args: argparse.Namespace) -> int:
    if args.policy_id is None:
        return _call(args, "compliance", "GET", "/policies")
    return _call(args, "compliance", "POST", f"/policies/{args.policy_id}/mode", {"mode": args.mode})


def cmd_policy_reload(args: argparse.Namespace) -> int:
    return _call(args, "compliance", "POST", "/policies/reload")


def cmd_fraud_hold(args: argparse.Namespace) -> int:
    if args.action == "set":
        return _call(args, "compliance", "POST", f"/fraud-holds/{args.customer}", {"reason": args.reason})
    return _call(args, "compliance", "DELETE", f"/fraud-holds/{args.customer}")


def cmd_erase(args: argparse.Namespace) -> int:
    return _call(args, "compliance", "POST", f"/customers/{args.customer}/erase")


def _common(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--gateway-url", help="the gateway's base URL (default: the embedded layout's)")
    p.add_argument("--staff", help="act as this staff account (default: the first with the needed role)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = sub.add_parser("approvals", help="list, approve or reject calls waiting for a human")
    a.add_argument("action", choices=("list", "approve", "reject"))
    a.add_argument("approval_id", nargs="?")
    a.add_argument("--status", help="with list: pending, executed, rejected, expired, failed")
    a.add_argument("--note", help="a note recorded with the decision")
    _common(a)
    a.set_defaults(func=cmd_approvals)

    k = sub.add_parser("kill-switch", help="stop every tool call (or one agent's, or one tool's) at once")
    k.add_argument("state", choices=("on", "off"))
    group = k.add_mutually_exclusive_group()
    group.add_argument("--agent", help="only this agent")
    group.add_argument("--tool", help="only this tool, e.g. payments.issue_refund")
    k.add_argument("--reason", default="", help="why (recorded in the audit log)")
    _common(k)
    k.set_defaults(func=cmd_kill_switch)

    p = sub.add_parser("policy", help="list policies and their modes, set one's mode, or check a call")
    policy_sub = p.add_subparsers(dest="policy_command", required=True)
    m = policy_sub.add_parser("mode", help="set a policy to enforce or log-only (shadow)")
    m.add_argument("policy_id", nargs="?", help="omit to list every policy and its mode")
    m.add_argument("mode", nargs="?", choices=("enforce", "log-only"))
    _common(m)
    m.set_defaults(func=cmd_policy)
    _policy_check.register(policy_sub)
    r = policy_sub.add_parser(
        "reload", help="make a running gateway read its policy files again (refused, with the reason, if invalid)"
    )
    _common(r)
    r.set_defaults(func=cmd_policy_reload)

    f = sub.add_parser("fraud-hold", help="pause (or resume) payment actions for one customer")
    f.add_argument("action", choices=("set", "lift"))
    f.add_argument("customer", help="unified customer id, e.g. CUST-00042")
    f.add_argument("--reason", default="set by staff", help="why (recorded in the audit log)")
    _common(f)
    f.set_defaults(func=cmd_fraud_hold)

    e = sub.add_parser(
        "erase-customer",
        help="erase one customer's raw tool-call values from the audit log (the hash chain stays intact)",
    )
    e.add_argument("customer", help="unified customer id, e.g. CUST-00042")
    _common(e)
    e.set_defaults(func=cmd_erase)
