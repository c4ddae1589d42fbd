"""``switchboard outbox``, ``customers`` and ``staff``: the reference data and accounts, for trying things out."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.secrets import STAFF_ROLES


def print_outbox(data_dir: Path, customer: str | None, limit: int) -> None:
    from mcp_servers.identity.outbox import read_outbox

    messages = read_outbox(data_dir, customer_id=customer, limit=limit)
    if not messages:
        print("(the outbox is empty)")
    for m in messages:
        print(f"{m.get('at', '')}  to {m.get('to', '')} ({m.get('channel', '')}): {m.get('text', '')}")


def cmd_outbox(args: argparse.Namespace) -> int:
    print_outbox(settings_from(args).data_dir, args.customer, args.limit)
    return 0


def cmd_customers(args: argparse.Namespace) -> int:
    from mcp_servers.dataset import prepare_dataset, sample_customers

    settings = settings_from(args)
    asyncio.run(
        prepare_dataset(
            settings.data_dir, settings.database_url, customers=settings.customers, seed=settings.dataset_seed
        )
    )
    flags = {"has_duplicate_charge": True} if args.duplicates else {}
    for c in sample_customers(settings.data_dir, args.limit, database_url=settings.database_url, **flags):
        print(json.dumps(c))
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    from shared.secrets import Secrets

    settings = settings_from(args)
    path = settings.data_dir / "secrets.json"
    if args.add:
        try:
            cred = Secrets.add_staff(settings.data_dir, args.add, args.role)
        except ValueError as exc:
            print(exc)
            return 2
        print(f"{args.add:<12} {cred.role:<11} {cred.token}   (restart the orchestrator to use it)")
        return 0
    if not path.exists():
        print(f"no accounts yet under {settings.data_dir}: run 'switchboard up' once to create them")
        return 1
    loaded = Secrets.load_or_create(settings.data_dir, demo_staff=settings.demo_staff)
    for name, cred in loaded.staff_tokens.items():
        print(f"{name:<12} {cred.role:<11} {cred.token}")
    shared = [name for name, cred in loaded.staff_tokens.items() if cred.shared]
    if shared:  # on stderr: stdout stays three columns a script can read
        print(
            f"demo mode: {', '.join(shared)} are shared accounts that sign in only while SWITCHBOARD_DEMO_STAFF is"
            " true; add named people with --add NAME --role ROLE",
            file=sys.stderr,
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "outbox")
    add_common(p)
    p.add_argument("--customer", help="only this unified customer id (CUST-...)")
    p.add_argument("--limit", type=int, default=5)
    p.set_defaults(func=cmd_outbox)

    p = add_command(sub, "customers")
    add_common(p)
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--duplicates", action="store_true", help="only customers with a duplicate charge")
    p.set_defaults(func=cmd_customers)

    p = add_command(sub, "staff")
    add_common(p)
    p.add_argument("--add", metavar="NAME", help="create this account (a new token) instead of listing")
    p.add_argument("--role", default="agent", choices=STAFF_ROLES, help="the new account's role (default agent)")
    p.set_defaults(func=cmd_staff)
