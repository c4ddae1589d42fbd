"""How well a routing brain routes a labelled set of customer messages.

    python benchmarks/routing_accuracy.py [--brain offline|llm|scripted] [--jsonl PATH] [--threshold 0.45]

``offline`` is the default brain; ``llm`` is the LLM router with the model configured by
``SWITCHBOARD_ROUTER_MODEL`` / ``SWITCHBOARD_MODEL`` (litellm names); ``scripted`` runs the LLM
router's whole path against the built-in deterministic double, with no model. Run it once per
brain to compare them on the same messages.

Trains from the skill folders, routes every message and prints accuracy per agent, per skill and
overall (a message counts as right when the top skill is right *and* clears the threshold),
how the unclear messages (agent and skill null) were handled, the top confusions, per-message
latency and, for LLM brains, fallbacks and model tokens. Exit status 1 when overall accuracy is
below 0.90, 2 when ``--brain llm`` has no model configured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from agents.runtime.llm import LLMSettings  # noqa: E402
from orchestrator.routing import Brain, build_brain, skill_specs_from_skills  # noqa: E402
from shared.skills import load_skills  # noqa: E402

TARGET = 0.90


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", type=Path, default=ROOT / "evals" / "routing" / "messages.jsonl")
    parser.add_argument("--threshold", type=float, default=0.45)
    parser.add_argument("--brain", choices=("offline", "llm", "scripted"), default="offline")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


def _brain(kind: str) -> Brain | None:
    specs = skill_specs_from_skills(load_skills())
    if kind == "offline":
        return build_brain(specs, LLMSettings(model=None, router_model=None))
    if kind == "scripted":
        return build_brain(specs, LLMSettings(router_model="scripted"))
    settings = LLMSettings()
    if settings.model_for("router") is None:
        return None
    return build_brain(specs, settings)


async def _run(args: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in args.jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    brain = _brain(args.brain)
    if brain is None:
        print("--brain llm needs a model: set SWITCHBOARD_ROUTER_MODEL or SWITCHBOARD_MODEL (see docs/llm.md)")
        return 2
    training = time.perf_counter() - started
    fallbacks = 0
    tokens = 0
    cost = 0.0

    hits: dict[str, list[bool]] = defaultdict(list)
    by_agent: dict[str, list[bool]] = defaultdict(list)
    confusions: Counter[tuple[str, str]] = Counter()
    unclear_low: list[bool] = []
    latencies: list[float] = []
    for row in rows:
        t0 = time.perf_counter()
        decision = await brain.route(row["text"])
        latencies.append(time.perf_counter() - t0)
        fallbacks += decision.brain.startswith("offline (fallback")
        tokens += int(decision.usage.get("total_tokens", 0))
        cost += float(decision.usage.get("cost_usd", 0.0))
        confident = decision.agent is not None and decision.confidence >= args.threshold
        if row["skill"] is None:
            unclear_low.append(not confident)
            if confident:
                print(f"  unclear routed: {row['text']!r} -> {decision.skill} {decision.confidence:.2f}")
            continue
        right = decision.skill == row["skill"] and confident
        hits[row["skill"]].append(right)
        by_agent[row["agent"]].append(right)
        if not right:
            got = decision.skill if confident else f"clarify({decision.skill})"
            confusions[(row["skill"], got)] += 1

    def share(values: list[bool]) -> str:
        return f"{sum(values) / len(values):6.1%} ({sum(values)}/{len(values)})"

    every = [v for values in hits.values() for v in values]
    print(f"brain {args.brain}: built in {training * 1000:.0f} ms; {len(rows)} messages\n")
    print("per agent:")
    for agent, values in sorted(by_agent.items()):
        print(f"  {agent:<12} {share(values)}")
    print("per skill:")
    for skill, values in sorted(hits.items()):
        print(f"  {skill:<22} {share(values)}")
    print(f"overall: {share(every)}")
    if unclear_low:
        print(f"unclear messages kept below {args.threshold}: {share(unclear_low)}")
    print("top confusions (expected -> got):")
    for (expected, got), count in confusions.most_common(8):
        print(f"  {count:3d}  {expected} -> {got}")
    print(
        f"latency per message: p50 {_percentile(latencies, 0.5) * 1e3:.3f} ms, "
        f"p99 {_percentile(latencies, 0.99) * 1e3:.3f} ms, mean {statistics.fmean(latencies) * 1e3:.3f} ms"
    )
    if args.brain != "offline":
        print(f"model fell back to the offline brain: {fallbacks}/{len(rows)}; tokens {tokens}, cost ${cost:.4f}")
    return 0 if sum(every) / len(every) >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
