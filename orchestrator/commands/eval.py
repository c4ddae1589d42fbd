"""``switchboard eval …``: run scenario suites with simulated customers, and compare runs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.commands import add_command
from shared.resources import package_dir

if TYPE_CHECKING:
    from rich.progress import Progress

    from orchestrator.evaluation.results import TrialResult
    from orchestrator.evaluation.scorecard import Comparison, Scorecard

# The suite shipped with the package; a path on the command line evaluates another one.
DEFAULT_SUITE = package_dir("evals", "scenarios")


def _progress(total: int) -> tuple[Progress, Callable[[TrialResult], None]]:
    """A rich progress bar on a terminal; one line per finished trial otherwise (CI logs)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    task = progress.add_task("eval", total=total, last="")

    def on_result(result: TrialResult) -> None:
        mark = "skip" if result.skipped else ("pass" if result.passed else "FAIL")
        progress.update(task, advance=1, last=f"{mark} {result.scenario_id}")
        if not console.is_terminal:
            print(f"{mark:4} {result.scenario_id} (trial {result.trial + 1})", file=sys.stderr)

    return progress, on_result


def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.evaluation import (
        Approver,
        Target,
        build_scorecard,
        compare,
        load_scorecard,
        load_suite,
        render_html,
        run_embedded,
        run_scenarios,
    )

    scenarios = load_suite(args.suite, only=args.only, tags=args.tag)
    baseline = load_scorecard(args.baseline) if args.baseline else None
    progress, on_result = _progress(len(scenarios) * args.trials)
    started = time.perf_counter()
    with progress:
        if args.url:
            token = args.approver_token or os.environ.get("SWITCHBOARD_APPROVER_TOKEN")
            approver = Approver(args.gateway_url.rstrip("/"), token) if args.gateway_url and token else None
            target = Target(
                orchestrator_url=args.url.rstrip("/"),
                data_dir=args.data_dir,
                code_command=args.code_command,
                approver=approver,
            )
            results = asyncio.run(
                run_scenarios(target, scenarios, trials=args.trials, concurrency=args.concurrency, on_result=on_result)
            )
        else:
            results = asyncio.run(
                run_embedded(
                    scenarios,
                    trials=args.trials,
                    concurrency=args.concurrency,
                    data_dir=args.data_dir,
                    on_result=on_result,
                )
            )
    card = build_scorecard(
        results,
        suite=str(args.suite),
        target=args.url or "embedded",
        trials=args.trials,
        duration_seconds=time.perf_counter() - started,
    )
    comparison = compare(baseline, card) if baseline else None
    if args.json:
        args.json.write_text(card.model_dump_json(indent=2), encoding="utf-8")
    if args.html:
        args.html.write_text(render_html(card, comparison), encoding="utf-8")
    o = card.overall
    print(
        f"{o.scenarios} scenarios x {args.trials} trial(s) in {card.duration_seconds:.1f}s: "
        f"task success {_pct(o.task_success)}, pass^{args.trials} {_pct(o.pass_k)}, safety {_pct(o.safety)}, "
        f"compliance {_pct(o.compliance)}, downstream {_pct(o.downstream_correctness)}, "
        f"re-verifications {o.re_verifications}, turn p95 {o.latency_p95_ms or 0:.0f} ms; {len(card.skipped)} skipped"
    )
    for s in card.scenarios:
        if s.skipped:
            print(f"  skip {s.id}: {s.skipped}")
        elif not s.pass_k:
            print(f"  FAIL {s.id}: {'; '.join(s.failures[:3])}")
    failed = [s.id for s in card.scenarios if not s.pass_k and not s.skipped]
    if failed:
        print(f"{len(failed)} scenario(s) failed")
    if comparison is not None:
        _print_comparison(comparison)
    return exit_status(card, comparison)


def exit_status(card: Scorecard, comparison: Comparison | None = None) -> int:
    """1 when any scenario failed or the run regressed from its baseline: a 0 means every one passed."""
    failed = any(not s.pass_k and not s.skipped for s in card.scenarios)
    return 1 if failed or (comparison is not None and comparison.has_regressions) else 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _print_comparison(comparison: Comparison) -> None:
    regressions, improvements = len(comparison.regressions), len(comparison.improvements)
    print(f"compared with baseline: {regressions} regression(s), {improvements} improvement(s)")
    for c in comparison.regressions:
        print(f"  REGRESSION {c.kind} {c.subject}: {c.before} -> {c.after}")
    for c in comparison.improvements:
        print(f"  improved   {c.kind} {c.subject}: {c.before} -> {c.after}")


def cmd_compare(args: argparse.Namespace) -> int:
    from orchestrator.evaluation import compare, load_scorecard, render_html

    baseline, current = load_scorecard(args.baseline), load_scorecard(args.current)
    comparison = compare(baseline, current)
    _print_comparison(comparison)
    if args.html:
        args.html.write_text(render_html(current, comparison), encoding="utf-8")
    return 1 if comparison.has_regressions else 0


def cmd_list(args: argparse.Namespace) -> int:
    from orchestrator.evaluation import load_suite

    for s in load_suite(args.suite, tags=args.tag):
        needs = f"  (needs {', '.join(s.requires)})" if s.requires else ""
        print(f"{s.id:40} {s.agent:11} {s.skill:22} {s.title}{needs}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "eval")
    eval_sub = p.add_subparsers(dest="eval_command", required=True)

    run = eval_sub.add_parser("run", help="run a scenario suite and write a scorecard")
    run.add_argument("suite", nargs="?", type=Path, default=DEFAULT_SUITE, help="folder or file of scenario YAML")
    run.add_argument("--url", help="evaluate a running orchestrator at this URL instead of an embedded stack")
    run.add_argument(
        "--data-dir",
        type=Path,
        help="embedded: an empty folder to keep the run's data (default: temporary); "
        "with --url: the deployment's data directory, to read codes, audit and system state",
    )
    run.add_argument("--code-command", help="with --url: a shell command printing the one-time code for $CUSTOMER_ID")
    run.add_argument(
        "--gateway-url", help="with --url: the governance gateway, where the simulated approver decides held calls"
    )
    run.add_argument(
        "--approver-token",
        help="with --url: a staff token with the approver role (or SWITCHBOARD_APPROVER_TOKEN); "
        "embedded runs use their own",
    )
    run.add_argument("--trials", type=int, default=1, help="trials per scenario (pass^k uses all of them)")
    run.add_argument("--concurrency", type=int, default=8, help="conversations in flight at once")
    run.add_argument("--only", nargs="+", metavar="ID", help="only these scenario ids")
    run.add_argument("--tag", nargs="+", help="only scenarios with any of these tags")
    run.add_argument("--json", type=Path, help="write the scorecard as JSON here")
    run.add_argument("--html", type=Path, help="write a self-contained HTML report here")
    run.add_argument("--baseline", type=Path, help="a previous --json scorecard: report regressions, exit 1 on any")
    run.set_defaults(func=cmd_run)

    cmp = eval_sub.add_parser("compare", help="show regressions between two scorecards (exit 1 on any)")
    cmp.add_argument("baseline", type=Path)
    cmp.add_argument("current", type=Path)
    cmp.add_argument("--html", type=Path, help="write the current run's report with the comparison")
    cmp.set_defaults(func=cmd_compare)

    ls = eval_sub.add_parser("list", help="list the scenarios in a suite")
    ls.add_argument("suite", nargs="?", type=Path, default=DEFAULT_SUITE)
    ls.add_argument("--tag", nargs="+")
    ls.set_defaults(func=cmd_list)
