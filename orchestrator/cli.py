"""The ``switchboard`` command line: the subcommands indexed in ``orchestrator.commands``.

Only the module of the command a run names is imported: ``switchboard up`` starts its
processes without first loading every other command's imports, and ``switchboard --help``
lists the commands from the index alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from orchestrator.commands import COMMANDS
from shared.errors import SwitchboardError


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With ``argv``, only the command it names is complete (its module
    imported); every other command is listed with its help line but takes no arguments. Without,
    every command is complete."""
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Switchboard: a supervisor and specialist agents over A2A, enterprise systems over MCP, "
        "every tool call governed and audited.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else COMMANDS.get(_named(argv) or "")
    registered: set[str] = set()
    for name, command in COMMANDS.items():
        complete = argv is None or (chosen is not None and chosen.module == command.module)
        if not complete:
            sub.add_parser(name, help=command.help)  # listed by --help; never parsed, as not named
        elif command.module not in registered:
            importlib.import_module(f"orchestrator.commands.{command.module}").register(sub)
            registered.add(command.module)
    for command_parser in sub.choices.values():
        _help_when_bare(command_parser)
    return parser


def _named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word, unless that is an option (``--help``)."""
    return argv[0] if argv and not argv[0].startswith("-") else None


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
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
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
