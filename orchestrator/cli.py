"""The ``switchboard`` command line: gathers the subcommands from ``orchestrator/commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from orchestrator import commands
from shared.errors import SwitchboardError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Switchboard: a supervisor and specialist agents over A2A, enterprise systems over MCP, "
        "every tool call governed and audited.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    for command in sub.choices.values():
        _help_when_bare(command)
    return parser


def _help_when_bare(parser: argparse.ArgumentParser) -> None:
    """``switchboard eval`` alone prints the help of ``eval`` instead of a usage error."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return
    groups[0].required = False

    def print_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    parser.set_defaults(func=print_help)


def _a2a_sdk_spans_off() -> None:
    """Spare the a2a SDK's own spans (about forty per handoff) unless they are asked for.

    ``shared.telemetry`` drops them anyway unless ``SWITCHBOARD_OTEL_A2A_SDK_SPANS`` keeps them;
    the SDK's own switch, read once when it is imported (so here, before any command imports it,
    and inherited by the processes ``up`` starts), spares making them at all.
    """
    if os.environ.get("SWITCHBOARD_OTEL_A2A_SDK_SPANS", "").strip().lower() not in ("1", "true", "yes"):
        os.environ.setdefault("OTEL_INSTRUMENTATION_A2A_SDK_ENABLED", "false")


def main(argv: list[str] | None = None) -> int:
    _a2a_sdk_spans_off()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except SwitchboardError as exc:
        print(f"error: {exc.message}" + (f"\n  what to do: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
