"""The offline brain measured on validation folds of the TRAINING split: where tuning decisions are made.

    python benchmarks/routing_validation.py [--folds 4] [--no-embedding] [--dump FILE] [--load FILE]
                                            [--fit [--write]]

The training split is cut into folds by the hand-written message each row was made from (its
``group``), so a typo-ridden or rambling variant is never validated against a brain that learned
its original. Each fold is routed by a brain trained on the other folds (and the skills' own
examples); two requests in one message are validated only when both halves fall in the fold.
The test split is never read here: every setting of the brain (its calibration, the weight of
the embedding) is chosen on these figures, and ``routing_accuracy.py`` then reports the test split
once, as the honest measure.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from orchestrator.routing import OfflineBrain, calibration, skill_specs_from_skills  # noqa: E402
from orchestrator.routing.corpus import Labelled, training_rows  # noqa: E402
from orchestrator.wording import options  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.skills import load_skills  # noqa: E402

FITTED = ROOT / "orchestrator" / "routing" / "calibration_fit.py"


def fold_of(group: str | None, folds: int) -> set[int]:
    """The folds a row's hand-written message(s) fall in."""
    return {int(part, 16) % folds for part in (group or "0").split("+")}


def folds(rows: list[Labelled], count: int) -> list[tuple[list[Labelled], list[Labelled]]]:
    """(learn, validate) pairs: validate holds the rows made only from the fold's messages."""
    out = []
    for fold in range(count):
        learn = [r for r in rows if fold not in fold_of(r.group, count)]
        validate = [r for r in rows if fold_of(r.group, count) == {fold}]
        out.append((learn, validate))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--no-embedding", action="store_true")
    parser.add_argument("--dump", type=Path, help="write one JSON line per validated message")
    parser.add_argument("--load", type=Path, help="read the messages --dump wrote instead of routing again")
    parser.add_argument("--fit", action="store_true", help="fit the confidence calibration and print it")
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"with --fit: write it to {FITTED.relative_to(ROOT)}, which the brain reads",
    )
    args = parser.parse_args(argv)
    threshold = Settings().route_threshold
    skills = load_skills()
    specs = skill_specs_from_skills(skills)
    labels = {(s.agent, s.name): s.customer_label for s in skills}
    rows = training_rows()
    records: list[dict[str, object]] = []
    if args.load:
        records = [json.loads(line) for line in args.load.read_text(encoding="utf-8").splitlines()]
    for learn, validate in [] if args.load else folds(rows, args.folds):
        brain = OfflineBrain(specs, corpus=learn, embedding_weight=0.0 if args.no_embedding else None)
        for row in validate:
            decision, signals = brain.assess(row.text)
            records.append(
                {
                    "text": row.text,
                    "kind": row.kind,
                    "style": row.style,
                    "skill": row.skill,
                    "then": row.then_skill,
                    "lang": row.lang,
                    "got": decision.skill,
                    "got_then": decision.then.skill if decision.then else None,
                    "intent": decision.intent,
                    "language": decision.language,
                    "confidence": decision.confidence,
                    "routed": decision.routes(threshold),
                    "reason": decision.reason,
                    "signals": signals.values() if signals else None,
                    # What a clarifying question would offer: the customer labels of the options.
                    "offered": options(decision, labels),
                    "label": labels.get((row.agent or "", row.skill or "")),
                    "group": row.group,
                }
            )
    if args.dump:
        args.dump.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if args.write and not args.fit:
        parser.error("--write needs --fit")
    if args.fit:
        fitted = fit(records)
        print_fit(fitted)
        if args.write:
            FITTED.write_text(calibration.render(fitted), encoding="utf-8")
            print(f"written to {FITTED.relative_to(ROOT)}")
    report(records)
    return 0


def fit(records: list[dict[str, object]]) -> calibration.Fit:
    """Fit ``calibration``'s coefficients on the validated answers, find the operating point of
    each budget, and re-decide every record at the chosen one (so ``report`` shows what the
    fitted brain would do)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    english = [r for r in records if r["kind"] != "other-language"]
    answered = [r for r in english if r["signals"] is not None]
    x = np.asarray([r["signals"] for r in answered], dtype=np.float64)
    y = np.asarray([r["got"] == r["skill"] for r in answered])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    coefficients = tuple(round(float(c), 3) for c in model.coef_[0])
    intercept = round(float(model.intercept_[0]), 3)
    likelihoods = [
        calibration.likelihood(calibration.Signals(*r["signals"]), coefficients, intercept)  # type: ignore[misc]
        for r in answered
    ]
    in_domain = sum(1 for r in english if r["skill"] is not None)
    # Answers not calibrated (an explicit request for a person) are acted on whatever the point.
    fixed = [r for r in english if r["signals"] is None and r["routed"]]
    fixed_wrong = sum(1 for r in fixed if r["got"] != r["skill"])
    fixed_right = sum(1 for r in fixed if r["skill"] is not None and r["got"] == r["skill"])
    ranked = sorted(zip(likelihoods, answered, strict=True), key=lambda pair: -pair[0])
    # Answers of equal likelihood are acted on together: the curve steps from one likelihood to the next.
    steps: list[tuple[float, int, int]] = []
    wrong, right = fixed_wrong, fixed_right
    for p, group in itertools.groupby(ranked, key=lambda pair: pair[0]):
        for _, r in group:
            wrong += r["got"] != r["skill"]
            right += r["got"] == r["skill"]
        steps.append((p, wrong, right))
    points = []
    for budget in calibration.BUDGETS:
        # The lowest likelihood at which acting on everything at or above it keeps the wrong answers in budget.
        best, wrong, right = 1.0, fixed_wrong, fixed_right
        for p, step_wrong, step_right in steps:
            if step_wrong / len(english) > budget:
                break
            best, wrong, right = p, step_wrong, step_right
        points.append(
            calibration.Point(budget, round(best, 4), round(right / in_domain, 4), round(wrong / len(english), 4))
        )
    fitted = calibration.Fit(len(records), coefficients, intercept, tuple(points))
    chosen = fitted.chosen()
    for r, p in zip(answered, likelihoods, strict=True):
        r["routed"] = p >= chosen.operating_point
    return fitted


def print_fit(fitted: calibration.Fit) -> None:
    """The fitted constants and the trade-off curve, the chosen budget marked."""
    chosen = fitted.chosen()
    print(f"COEFFICIENTS = {fitted.coefficients}\nINTERCEPT = {fitted.intercept}")
    print(f"OPERATING_POINT = {chosen.operating_point} (budget {chosen.budget:.1%})")
    print("trade-off on the folds (budget: operating point, in-domain answered right, confident wrong):")
    for p in fitted.curve:
        mark = "  <- chosen" if p is chosen else ""
        print(f"  {p.budget:5.1%}: {p.operating_point:.4f}  {p.in_domain:6.1%}  {p.wrong:5.1%}{mark}")


def _share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):6.1%} ({sum(values)}/{len(values)})" if values else "   n/a"


def report(records: list[dict[str, object]]) -> None:
    """The figures ``routing_accuracy.py`` prints, over the validation folds."""
    in_domain: list[bool] = []
    wrong: list[bool] = []
    both: list[bool] = []
    offered: list[bool] = []
    handled: dict[str, list[bool]] = defaultdict(list)
    per_style: dict[str, list[bool]] = defaultdict(list)
    confusions: Counter[tuple[object, object]] = Counter()
    for r in records:
        if r["kind"] == "other-language":
            handled["language"].append(r["language"] == r["lang"])
            continue
        routed = bool(r["routed"])
        if r["skill"] is not None:
            right = routed and r["got"] == r["skill"]
            in_domain.append(right)
            per_style[str(r["style"] or r["kind"])].append(right)
            if r["kind"] == "two-requests":
                both.append(right and r["got_then"] == r["then"])
            if not routed and r["kind"] != "two-requests" and "offered" in r:
                offered.append(r["label"] in r["offered"])  # type: ignore[operator]
            if not right:
                confusions[(r["skill"], r["got"] if routed else f"not routed ({r['intent']})")] += 1
        else:
            expected = {"out-of-scope": "out-of-scope", "small-talk": "small-talk", "vague": "unclear"}[str(r["kind"])]
            handled[str(r["kind"])].append(r["intent"] == expected or (r["kind"] == "vague" and not routed))
            if routed:
                confusions[(r["kind"], r["got"])] += 1
        wrong.append(routed and r["got"] != r["skill"])
    print(f"validation folds of the training split: {len(records)} messages")
    print(f"in-domain accuracy:      {_share(in_domain)}")
    print(f"confident wrong answers: {_share(wrong)}")
    print(f"unsure, the right skill among the options offered: {_share(offered)}")
    for kind in ("out-of-scope", "small-talk", "vague", "language"):
        print(f"{kind + ' recognised:':<24} {_share(handled[kind])}")
    print(f"two requests, both understood: {_share(both)}")
    for style, values in sorted(per_style.items()):
        print(f"  {style:<22} {_share(values)}")
    print("top confusions (expected -> got):")
    for (label, got), count in confusions.most_common(12):
        print(f"  {count:3d}  {label} -> {got}")


if __name__ == "__main__":
    sys.exit(main())
