"""``switchboard route``: how the offline brain routes messages (no services needed)."""

from __future__ import annotations

import argparse
import io
import sys

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from


def cmd_route(args: argparse.Namespace) -> int:
    from orchestrator.routing.cli import route_jsonl

    settings = settings_from(args)
    # Only a cache the operator named: this command needs no data directory and makes none.
    threshold, cache_dir = settings.route_threshold, settings.cache_dir
    if args.jsonl:
        return route_jsonl(sys.stdin, sys.stdout, threshold=threshold, cache_dir=cache_dir)
    if not args.text:
        print("give a message, or --jsonl to read one per line from stdin", file=sys.stderr)
        return 2
    return route_jsonl(io.StringIO(" ".join(args.text) + "\n"), sys.stdout, threshold=threshold, cache_dir=cache_dir)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "route")
    add_common(p)
    p.add_argument("--jsonl", action="store_true", help="read one message per line on stdin, print JSON lines")
    p.add_argument("text", nargs="*", help="a message to route")
    p.set_defaults(func=cmd_route)
