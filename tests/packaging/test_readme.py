"""The README's commands exist as written, and what it counts matches what runs."""

from __future__ import annotations

import re
from itertools import takewhile

import pytest

from orchestrator.cli import build_parser, main
from tests.packaging.imports import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
NAME = re.compile(r"^[a-z][a-z-]*$")
NUMBERS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


def _command_table() -> str:
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


def readme_commands() -> list[list[str]]:
    """Each backticked command in the table's first column, without its arguments."""
    commands = []
    for row in _command_table().splitlines():
        first_cell = row.split("|")[1]
        for quoted in re.findall(r"`([^`]+)`", first_cell):
            words = quoted.removeprefix("switchboard ").split()
            commands.append(list(takewhile(NAME.match, words)))
    return commands


COMMANDS = readme_commands()


def test_the_table_names_the_commands() -> None:
    assert ["up"] in COMMANDS and ["chat"] in COMMANDS and ["eval", "run"] in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_each_readme_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: switchboard {' '.join(command)}")


@pytest.mark.parametrize("group", sorted({c[0] for c in COMMANDS if len(c) > 1}))
def test_a_bare_command_group_prints_its_help(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([group]) == 0
    assert capsys.readouterr().out.startswith(f"usage: switchboard {group}")


def test_the_readme_counts_the_mcp_servers_that_start() -> None:
    servers = sorted(p.parent.name for p in (ROOT / "mcp_servers").glob("*/server.py"))
    stated = re.search(r"\b(\w+) MCP\s+servers", README)
    assert stated and NUMBERS[stated.group(1)] == len(servers), (stated, servers)
    for name in servers:
        assert name in README.split("## Run it", 1)[1].split("\n## ", 1)[0], name
