"""``switchboard route``: how the offline brain routes messages (no services needed)."""

from __future__ import annotations

import argparse
import io
import sys
from typing import TextIO

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from


def cmd_route(args: argparse.Namespace) -> int:
    from orchestrator.routing.cli import route_jsonl

    settings = settings_from(args)
    stdin: TextIO
    if args.jsonl:
        stdin = sys.stdin
    elif args.text:
        stdin = io.StringIO(" ".join(args.text) + "\n")
    else:
        print("give a message, or --jsonl to read one per line from stdin", file=sys.stderr)
        return 2
    # Only a cache the operator named: this command needs no data directory and makes none.
    return route_jsonl(
        stdin,
        sys.stdout,
        threshold=settings.route_threshold,
        cache_dir=settings.cache_dir,
        wrong_budget=settings.route_wrong_budget,
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "route")
    add_common(p)
    p.add_argument("--jsonl", action="store_true", help="read one message per line on stdin, print JSON lines")
    p.add_argument("text", nargs="*", help="a message to route")
    p.set_defaults(func=cmd_route)
