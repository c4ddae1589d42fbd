"""The ``switchboard`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from shared.errors import SwitchboardError
from shared.settings import Settings, Topology

log = logging.getLogger("switchboard")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("data_dir", "base_port", "host"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where state lives (default ./data or SWITCHBOARD_DATA_DIR)")
    p.add_argument("--base-port", type=int, help="first port of the embedded layout (default 8700)")
    p.add_argument("--host", help="interface to listen on / talk to (default 127.0.0.1)")


def cmd_up(args: argparse.Namespace) -> int:
    from orchestrator.launcher import Stack, print_topology

    settings = _settings(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"Starting Switchboard: seeding the reference dataset in {settings.data_dir} if needed ...", flush=True)
        stack = Stack(settings, log_level="warning" if args.log_level.upper() != "DEBUG" else "info")
        async with stack as topology:
            assert stack.secrets is not None
            print_topology(topology, stack.secrets, settings.data_dir)
            sys.stdout.flush()
            await stop.wait()
            print("Stopping Switchboard ...", flush=True)
        print("Stopped.", flush=True)

    asyncio.run(run())
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import httpx

    settings = _settings(args)
    base = args.url or Topology.embedded(settings.host, settings.base_port).orchestrator
    with httpx.Client(base_url=base, timeout=60) as http:
        try:
            started = http.post("/api/conversations", json={"channel": args.channel})
        except httpx.HTTPError as exc:
            print(f"Cannot reach the orchestrator at {base} ({exc}). Is `switchboard up` running?", file=sys.stderr)
            return 2
        started.raise_for_status()
        conv = started.json()
        headers = {"Authorization": f"Bearer {conv['token']}"}
        print(f"[conversation {conv['conversation_id']}]  type /quit to leave, /code for your latest one-time code")
        print(f"supervisor> {conv['greeting']}")
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            if line == "/code":
                _print_outbox(settings.data_dir, None, 1)
                continue
            response = http.post(f"/api/conversations/{conv['conversation_id']}/messages", json={"text": line}, headers=headers)
            body = response.json()
            if response.status_code != 200:
                err = body.get("error", {})
                print(f"! {err.get('message', response.text)}" + (f" ({err['hint']})" if err.get("hint") else ""))
                continue
            who = body.get("agent") or "supervisor"
            print(f"{who}> {body['reply']}")
    return 0


def cmd_route(args: argparse.Namespace) -> int:
    from orchestrator.routing.cli import route_jsonl

    settings = _settings(args)
    if args.jsonl:
        return route_jsonl(sys.stdin, sys.stdout, threshold=settings.route_threshold)
    if not args.text:
        print("give a message, or --jsonl to read one per line from stdin", file=sys.stderr)
        return 2
    import io

    return route_jsonl(io.StringIO(" ".join(args.text) + "\n"), sys.stdout, threshold=settings.route_threshold)


def cmd_audit(args: argparse.Namespace) -> int:
    from orchestrator.governance import verify_audit

    settings = _settings(args)
    db = settings.data_dir / "audit.db"
    if not db.exists():
        print(f"no audit log at {db}: nothing has been recorded yet (start with `switchboard up`)", file=sys.stderr)
        return 2
    report = verify_audit(db)
    if report.intact:
        print(f"intact: {report.count} records, hash chain verified")
        return 0
    print(f"BROKEN at record {report.first_broken_seq}: {report.reason} ({report.count} records verified before it)")
    return 1


def _print_outbox(data_dir: Path, customer: str | None, limit: int) -> None:
    from mcp_servers.identity.outbox import read_outbox

    messages = read_outbox(data_dir, customer_id=customer, limit=limit)
    if not messages:
        print("(the outbox is empty)")
    for m in messages:
        print(f"{m.get('at', '')}  to {m.get('to', '')} ({m.get('channel', '')}): {m.get('text', '')}")


def cmd_outbox(args: argparse.Namespace) -> int:
    _print_outbox(_settings(args).data_dir, args.customer, args.limit)
    return 0


def cmd_customers(args: argparse.Namespace) -> int:
    from mcp_servers.dataset import ensure_seeded, sample_customers

    settings = _settings(args)
    ensure_seeded(settings.data_dir, customers=settings.customers, seed=settings.dataset_seed)
    flags = {"has_duplicate_charge": True} if args.duplicates else {}
    for c in sample_customers(settings.data_dir, args.limit, **flags):
        print(json.dumps(c))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Switchboard: a supervisor and specialist agents over A2A, enterprise systems over MCP, "
        "every tool call governed and audited.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start every service on loopback (embedded default) until Ctrl+C")
    _add_common(p)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("chat", help="talk to Switchboard as a customer in the terminal")
    _add_common(p)
    p.add_argument("--url", help="orchestrator base URL (default: the embedded layout)")
    p.add_argument("--channel", default="chat", choices=["chat", "voice", "email"])
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("route", help="show how the offline brain routes messages (no services needed)")
    _add_common(p)
    p.add_argument("--jsonl", action="store_true", help="read one message per line on stdin, print JSON lines")
    p.add_argument("text", nargs="*", help="a message to route")
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("audit", help="work with the tamper-evident audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    v = audit_sub.add_parser("verify", help="prove the hash chain intact or point at the first broken record")
    _add_common(v)
    v.set_defaults(func=cmd_audit)

    p = sub.add_parser("outbox", help="show one-time codes the reference identity system 'sent'")
    _add_common(p)
    p.add_argument("--customer", help="only this unified customer id (CUST-...)")
    p.add_argument("--limit", type=int, default=5)
    p.set_defaults(func=cmd_outbox)

    p = sub.add_parser("customers", help="list reference customers to try, with their keys")
    _add_common(p)
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--duplicates", action="store_true", help="only customers with a duplicate charge")
    p.set_defaults(func=cmd_customers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SwitchboardError as exc:
        print(f"error: {exc.message}" + (f"\n  what to do: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
