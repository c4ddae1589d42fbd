"""The command line's index (``orchestrator.commands.COMMANDS``) matches what the modules define."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import pytest

from orchestrator import commands
from orchestrator.cli import build_parser, main
from orchestrator.commands import COMMANDS


@pytest.mark.parametrize("module", sorted({c.module for c in COMMANDS.values()}))
def test_each_module_registers_the_commands_the_index_gives_it(module: str) -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"orchestrator.commands.{module}").register(sub)
    assert set(sub.choices) == {name for name, c in COMMANDS.items() if c.module == module}


def test_every_command_module_is_indexed() -> None:
    modules = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    assert modules == {c.module for c in COMMANDS.values()}


def test_the_help_lists_every_command_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listed = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name, command in COMMANDS.items():
        assert f"{name} {' '.join(command.help.split())}" in listed


def test_a_command_s_own_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["up", "--help"])
    out = capsys.readouterr().out
    assert "Start every service on loopback" in out and "--workers" in out


def test_the_named_command_parses_as_in_the_full_parser() -> None:
    argv = ["staff", "--add", "ben", "--role", "supervisor", "--data-dir", "d"]
    lazy, full = build_parser(argv).parse_args(argv), build_parser().parse_args(argv)
    assert vars(lazy) == vars(full)


def test_an_unknown_command_is_refused_naming_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bogus"])
    assert exited.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
