"""``switchboard skill test <skill>``: play one skill's scenarios, pass or fail each, in seconds."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.commands import add_command

if TYPE_CHECKING:
    from orchestrator.evaluation.results import TrialResult


def _report(result: TrialResult) -> None:
    if result.skipped:
        print(f"  skip {result.scenario_id}: {result.skipped}")
    elif result.passed:
        print(f"  pass {result.scenario_id}")
    else:
        print(f"  FAIL {result.scenario_id}: {'; '.join(result.failures[:3]) or 'criteria not met'}")
    sys.stdout.flush()


def cmd_test(args: argparse.Namespace) -> int:
    from orchestrator.evaluation.skill_harness import SUITE, run_skill

    started = time.perf_counter()
    print(f"{args.skill}: starting a fresh stack (reference systems, the real gateway) ...")
    sys.stdout.flush()
    results = asyncio.run(run_skill(args.skill, suite=args.suite or SUITE, data_dir=args.data_dir, on_result=_report))
    failed = [r for r in results if not r.passed and not r.skipped]
    passed = sum(1 for r in results if r.passed)
    print(f"{args.skill}: {passed} passed, {len(failed)} failed in {time.perf_counter() - started:.1f}s")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "skill")
    actions = p.add_subparsers(dest="skill_command", metavar="{test}")
    test = actions.add_parser("test", help="run the skill's scenarios and print pass/fail for each")
    test.add_argument("skill", help="skill name, e.g. change-plan")
    test.add_argument("--suite", type=Path, help="folder of scenario YAML (default: the shipped scenarios)")
    test.add_argument("--data-dir", type=Path, help="an empty folder to keep the run's data in (default: temporary)")
    test.set_defaults(func=cmd_test)
