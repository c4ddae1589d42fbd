"""How well a routing brain understands the held-out test split of the routing set, and how fast.

    python benchmarks/routing_accuracy.py [--brain offline|llm|scripted] [--split test|train]
                                          [--threshold 0.45] [--no-embedding]

``offline`` is the default brain; ``llm`` is the LLM router with the model configured by
``SWITCHBOARD_ROUTER_MODEL`` / ``SWITCHBOARD_MODEL`` (litellm names); ``scripted`` runs the LLM
router's whole path against the built-in deterministic double, with no model. ``--no-embedding``
trains the offline brain without the sentence embedding, to see what the embedding adds.

Prints, on the split (by default the test split, which no training step reads):
- in-domain accuracy: messages a skill owns (one request, or the first of two) routed to that
  skill with confidence at or above the threshold, and how often the brain's best guess, confident
  or not, names that skill (the ceiling of every operating point); per skill, per kind of wording, and for two
  requests in one message, how often both were understood;
- agent-level accuracy: the same messages routed confidently to a skill of the right specialist
  (the owner that answers the customer), and how often the brain's best guess, confident or not,
  names that specialist; per specialist;
- out-of-scope and small-talk handling: recognised as such rather than routed to a skill;
- other languages: the language detected (offline, these are answered with the languages served);
- confident wrong answers: routed to a skill, at or above the threshold, that is not the label
  (over every English message, the out-of-scope and small talk included);
- in-domain messages that were not routed but whose skill is among the options of the clarifying
  question the supervisor asks (``orchestrator.wording.options``): one more turn, not a wrong answer;
- the offline brain's trade-off: in-domain answered right against confident wrong at each
  operating point the calibration fitted on the validation folds (the chosen one marked);
- latency per message (wall and CPU time, p50 and p99) next to a floor that only normalises the
  text, so a loaded machine shows up as a slow floor; the brain's build time; and the import cost
  of the routing package, measured in five fresh interpreters (median and slowest).

Exit status 1 when the offline brain falls below the regression floors in ``FLOORS`` (the targets in
``TARGETS`` are printed next to the figures, met or not), 2 when ``--brain llm`` has no model.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from orchestrator.routing import Brain, OfflineBrain, build_brain, calibration, skill_specs_from_skills  # noqa: E402
from orchestrator.routing.corpus import Labelled, evaluation_rows, training_rows  # noqa: E402
from orchestrator.routing.decision import RouteDecision  # noqa: E402
from orchestrator.routing.text import normalize  # noqa: E402
from orchestrator.wording import options  # noqa: E402
from shared.llm import LLMSettings  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.skills import load_skills  # noqa: E402

TARGETS = {"in_domain": 0.95, "confident_wrong": 0.02}
# What the offline brain must keep doing on the test split; tests/routing/test_eval_set.py holds the same.
FLOORS = {"in_domain": 0.78, "agent": 0.81, "confident_wrong": 0.075, "out_of_scope": 0.52, "language": 0.95}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--threshold", type=float, default=0.45)
    parser.add_argument("--brain", choices=("offline", "llm", "scripted"), default="offline")
    parser.add_argument("--no-embedding", action="store_true")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


def _brain(kind: str, embedding: bool) -> Brain | None:
    specs = skill_specs_from_skills(load_skills())
    if kind == "offline":
        return OfflineBrain(specs, corpus=training_rows(), embedding_weight=None if embedding else 0.0)
    if kind == "scripted":
        # pydantic-settings takes _env_file at run time, but its typed signature lists the fields only.
        # The scripted double answers what the offline brain decides; its weights may come from
        # SWITCHBOARD_CACHE_DIR (a test run sets one), as they would at a deployment's start.
        scripted = LLMSettings(_env_file=None, router_model="scripted")  # type: ignore[call-arg]
        return build_brain(specs, scripted, cache_dir=Settings().cache_dir)
    settings = LLMSettings()
    if settings.model_for("router") is None:
        return None
    return build_brain(specs, settings)


IMPORT_RUNS = 5


def _import_cost() -> list[float]:
    """Seconds to import the routing package in a fresh interpreter (what a start-up pays), once
    per run: one run alone swings by a third with what else the machine does."""
    code = "import time; t = time.perf_counter(); import orchestrator.routing; print(time.perf_counter() - t)"
    runs = []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.strip()))
    return runs


def print_trade_off(
    answers: list[tuple[Labelled, RouteDecision, calibration.Signals | None]], threshold: float
) -> None:
    """In-domain answered right against confident wrong at each operating point fitted on the folds.

    The points were chosen on the validation folds (``routing_validation.py --fit``), never here:
    this shows where the chosen one sits on the split and what a stricter or looser budget would
    give. Each answer is re-decided from its calibration signals (answers that are not calibrated,
    such as an explicit request for a person, stay as decided).
    """
    in_domain = sum(1 for row, _, _ in answers if row.skill is not None)
    print("trade-off (budget on the folds: operating point, in-domain answered right, confident wrong):")
    for point in calibration.curve():
        right = wrong = 0
        for row, decision, signals in answers:
            if signals is None:
                acted = decision.routes(threshold)
            else:
                acted = calibration.likelihood(signals) >= point.operating_point
            right += acted and row.skill is not None and decision.skill == row.skill
            wrong += acted and decision.skill != row.skill
        mark = "  <- chosen" if point.operating_point == calibration.OPERATING_POINT else ""
        print(
            f"  {point.budget:5.1%}: {point.operating_point:.4f}  {right / in_domain:6.1%}"
            f"  {wrong / len(answers):5.1%}{mark}"
        )


def share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):6.1%} ({sum(values)}/{len(values)})" if values else "   n/a"


async def _run(args: argparse.Namespace) -> int:
    rows: list[Labelled] = evaluation_rows(args.split)
    labels = {(s.agent, s.name): s.customer_label for s in load_skills()}
    started = time.perf_counter()
    brain = _brain(args.brain, not args.no_embedding)
    if brain is None:
        print("--brain llm needs a model: set SWITCHBOARD_ROUTER_MODEL or SWITCHBOARD_MODEL (see docs/llm.md)")
        return 2
    build = time.perf_counter() - started
    threshold = args.threshold
    fallbacks = tokens = 0
    cost = 0.0
    in_domain: list[bool] = []
    offered: list[bool] = []
    per_skill: dict[str, list[bool]] = defaultdict(list)
    agent_right: list[bool] = []
    agent_best: list[bool] = []
    skill_best: list[bool] = []
    per_agent: dict[str, list[bool]] = defaultdict(list)
    per_style: dict[str, list[bool]] = defaultdict(list)
    both: list[bool] = []
    handled: dict[str, list[bool]] = defaultdict(list)
    language: list[bool] = []
    wrong: list[bool] = []
    wrong_agent: list[bool] = []
    confusions: Counter[tuple[str, str | None]] = Counter()
    # Per English message, for the trade-off: whether a skill owns it, the answer, and its calibration signals.
    answers: list[tuple[Labelled, RouteDecision, calibration.Signals | None]] = []
    wall: list[float] = []
    cpu: list[float] = []
    floor: list[float] = []
    for row in rows:
        t0, c0 = time.perf_counter(), time.thread_time()
        decision = await brain.route(row.text)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        t0 = time.perf_counter()
        normalize(row.text)
        floor.append(time.perf_counter() - t0)
        fallbacks += decision.brain.startswith("offline (fallback")
        tokens += int(decision.usage.get("total_tokens", 0))
        cost += float(decision.usage.get("cost_usd", 0.0))
        routed = decision.routes(threshold)
        if isinstance(brain, OfflineBrain) and row.kind != "other-language":
            answers.append((row, decision, brain.assess(row.text)[1]))
        if row.kind == "other-language":
            language.append(decision.language == row.lang)
            continue
        if row.skill is not None:
            right = routed and decision.skill == row.skill
            in_domain.append(right)
            per_skill[row.skill].append(right)
            first = decision.alternatives[0] if decision.alternatives else None
            guess = decision.agent or (first.agent if first else None)
            skill_best.append((decision.skill or (first.skill if first else None)) == row.skill)
            agent_right.append(routed and decision.agent == row.agent)
            agent_best.append(guess == row.agent)
            per_agent[row.agent or ""].append(routed and decision.agent == row.agent)
            per_style[row.style or row.kind].append(right)
            if row.kind == "two-requests":
                both.append(right and decision.then is not None and decision.then.skill == row.then_skill)
            if not routed and row.kind != "two-requests":
                offered.append(labels.get((row.agent or "", row.skill), "") in options(decision, labels))
            if not right:
                confusions[(row.skill, decision.skill if routed else f"not routed ({decision.intent})")] += 1
        else:
            expected = {"out-of-scope": "out-of-scope", "small-talk": "small-talk", "vague": "unclear"}[row.kind]
            handled[row.kind].append(decision.intent == expected or (row.kind == "vague" and not routed))
        wrong.append(routed and decision.skill != row.skill)
        wrong_agent.append(routed and decision.agent != row.agent)

    figures = {
        "in_domain": sum(in_domain) / len(in_domain),
        "agent": sum(agent_right) / len(agent_right),
        "confident_wrong": sum(wrong) / len(wrong),
        "out_of_scope": sum(handled["out-of-scope"]) / max(1, len(handled["out-of-scope"])),
        "language": sum(language) / max(1, len(language)),
    }
    print(f"brain {args.brain} on the {args.split} split: {len(rows)} messages; built in {build * 1000:.0f} ms")
    print(f"in-domain accuracy:      {share(in_domain)}   target {TARGETS['in_domain']:.0%}")
    print(f"in-domain, best guess:   {share(skill_best)}   (confident or not: no operating point answers more)")
    print(f"agent-level, confident:  {share(agent_right)}   (a skill of the right specialist)")
    print(f"agent-level, best guess: {share(agent_best)}   (confident or not)")
    print(f"confident wrong answers: {share(wrong)}   target at most {TARGETS['confident_wrong']:.0%}")
    print(f"confident, wrong specialist: {share(wrong_agent)}")
    print(f"unsure, the right skill among the options offered: {share(offered)}")
    print(f"out of scope recognised: {share(handled['out-of-scope'])}")
    print(f"small talk recognised:   {share(handled['small-talk'])}")
    print(f"vague kept from a skill: {share(handled['vague'])}")
    print(f"other language detected: {share(language)}")
    print(f"two requests, both understood: {share(both)}")
    if answers:
        print_trade_off(answers, threshold)
    print("in-domain by wording:")
    for style, values in sorted(per_style.items()):
        print(f"  {style:<22} {share(values)}")
    print("in-domain per specialist (confident, right specialist):")
    for agent, values in sorted(per_agent.items()):
        print(f"  {agent:<22} {share(values)}")
    print("in-domain per skill:")
    for skill, values in sorted(per_skill.items()):
        print(f"  {skill:<22} {share(values)}")
    print("top confusions (expected -> got):")
    for (expected, got), count in confusions.most_common(8):
        print(f"  {count:3d}  {expected} -> {got}")
    ms = {name: (_percentile(v, 0.5) * 1e3, _percentile(v, 0.99) * 1e3) for name, v in (("wall", wall), ("cpu", cpu))}
    print(
        f"latency per message: wall p50 {ms['wall'][0]:.3f} ms, p99 {ms['wall'][1]:.3f} ms,"
        f" mean {statistics.fmean(wall) * 1e3:.3f} ms; cpu p50 {ms['cpu'][0]:.3f} ms, p99 {ms['cpu'][1]:.3f} ms"
    )
    print(
        f"floor (normalising the text only): wall p50 {_percentile(floor, 0.5) * 1e3:.3f} ms,"
        f" p99 {_percentile(floor, 0.99) * 1e3:.3f} ms"
    )
    imports = _import_cost()
    print(
        f"import cost of orchestrator.routing: median {statistics.median(imports) * 1000:.0f} ms,"
        f" slowest {max(imports) * 1000:.0f} ms of {len(imports)} fresh interpreters"
    )
    if args.brain != "offline":
        print(f"model fell back to the offline brain: {fallbacks}/{len(rows)}; tokens {tokens}, cost ${cost:.4f}")
    below = [
        name
        for name, bar in FLOORS.items()
        if (figures[name] > bar if name == "confident_wrong" else figures[name] < bar)
    ]
    if below:
        print(f"below the regression floors: {', '.join(below)}")
    # The floors guard the offline brain; an LLM brain's figures are for comparing, not gating.
    return 1 if below and args.split == "test" and args.brain == "offline" else 0


if __name__ == "__main__":
    sys.exit(main())
