"""A self-contained HTML report: inline CSS and SVG charts, no scripts, nothing fetched."""

from __future__ import annotations

from html import escape

from orchestrator.evaluation.scorecard import THRESHOLDS, Change, Comparison, Rates, Scorecard, verdict

_DIMENSIONS = (
    ("task_success", "task success"),
    ("pass_k", "pass^k"),
    ("safety", "safety"),
    ("compliance", "compliance"),
    ("deflection_without_harm", "deflection w/o harm"),
    ("downstream_correctness", "downstream correctness"),
)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e6ec;
text-align:left;vertical-align:top}th{background:#f4f6f9}.pass{color:#137333}.fail{color:#b3261e}.skip{color:#8a6d00}
.bad{background:#fde7e6}.good{background:#e6f4ea}small{color:#5f6675}
"""
_CELL = {"met": "pass", "near": "skip", "missed": "fail", "n/a": ""}
_COLOURS = {"met": "#1e8e3e", "near": "#f9ab00", "missed": "#d93025", "n/a": "#9aa0a6"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _bar_chart(title: str, rows: list[tuple[str, float | None, str]]) -> str:
    """Horizontal bars, one per (label, rate, dimension), 0-100%, coloured by the dimension's threshold."""
    height = 24 * len(rows) + 30
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="560" height="{height}" viewBox="0 0 560 {height}">',
        f'<text x="0" y="14" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, value, dimension) in enumerate(rows):
        y = 26 + i * 24
        width = 0 if value is None else 300 * value
        state = verdict(dimension, value)
        mark = 190 + 300 * THRESHOLDS[dimension]
        parts.append(f'<text x="0" y="{y + 13}">{escape(label)}</text>')
        parts.append(f'<rect x="190" y="{y}" width="300" height="16" fill="#eef0f4"/>')
        parts.append(
            f'<rect x="190" y="{y}" width="{width:.1f}" height="16" fill="{_COLOURS[state]}" data-verdict="{state}"/>'
        )
        parts.append(f'<line x1="{mark:.1f}" x2="{mark:.1f}" y1="{y - 2}" y2="{y + 18}" stroke="#1d2330"/>')
        parts.append(f'<text x="498" y="{y + 13}">{_pct(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _latency_chart(groups: dict[str, Rates]) -> str:
    rows = [(name, r.latency_p50_ms or 0.0, r.latency_p95_ms or 0.0) for name, r in groups.items()]
    top = max([p95 for _, _, p95 in rows] + [1.0])
    height = 24 * len(rows) + 30
    parts = [
        f'<svg role="img" aria-label="latency per turn" width="560" height="{height}" viewBox="0 0 560 {height}">',
        '<text x="0" y="14" font-weight="600">turn latency per agent (p50 dark, p95 light), ms</text>',
    ]
    for i, (name, p50, p95) in enumerate(rows):
        y = 26 + i * 24
        parts.append(f'<text x="0" y="{y + 13}">{escape(name)}</text>')
        parts.append(f'<rect x="190" y="{y}" width="{300 * p95 / top:.1f}" height="16" fill="#aecbfa"/>')
        parts.append(f'<rect x="190" y="{y}" width="{300 * p50 / top:.1f}" height="16" fill="#1a73e8"/>')
        parts.append(f'<text x="498" y="{y + 13}">{p50:.0f} / {p95:.0f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _rates_table(groups: dict[str, Rates], label: str) -> str:
    head = "".join(f"<th>{escape(t)}</th>" for _, t in _DIMENSIONS)
    rows = []
    for name, r in groups.items():
        cells = "".join(
            f'<td class="{_CELL[verdict(key, getattr(r, key))]}">{_pct(getattr(r, key))}</td>' for key, _ in _DIMENSIONS
        )
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{r.scenarios}/{r.trials}</td>{cells}<td>{r.mean_turns or 0:.1f}</td>"
            f"<td>{r.re_verifications}</td><td>{r.denied_attempts}</td><td>{r.unauthorized_actions}</td>"
            f"<td>{r.latency_p50_ms or 0:.0f} / {r.latency_p95_ms or 0:.0f}</td></tr>"
        )
    return (
        f"<table><tr><th>{escape(label)}</th><th>scenarios/trials</th>{head}<th>mean turns</th>"
        f"<th>re-verifications</th><th>denied</th><th>unauthorized</th><th>latency p50/p95 ms</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _comparison(comparison: Comparison) -> str:
    def rows(changes: list[Change], css: str) -> str:
        return "".join(
            f'<tr class="{css}"><td>{escape(c.kind)}</td><td>{escape(c.subject)}</td>'
            f"<td>{escape(str(c.before))}</td><td>{escape(str(c.after))}</td></tr>"
            for c in changes
        )

    if not comparison.regressions and not comparison.improvements:
        return "<h2>Compared with the baseline</h2><p>No change.</p>"
    return (
        f"<h2>Compared with the baseline: {len(comparison.regressions)} regression(s), "
        f"{len(comparison.improvements)} improvement(s)</h2>"
        "<table><tr><th>what</th><th>where</th><th>before</th><th>after</th></tr>"
        + rows(comparison.regressions, "bad")
        + rows(comparison.improvements, "good")
        + "</table>"
    )


def render_html(card: Scorecard, comparison: Comparison | None = None) -> str:
    overall = card.overall
    scenario_rows = []
    for s in card.scenarios:
        if s.skipped:
            verdict, css = f"skipped: {s.skipped}", "skip"
        else:
            verdict, css = ("pass" if s.pass_k else "fail"), ("pass" if s.pass_k else "fail")
        detail = "<br>".join(escape(f) for f in s.failures[:4])
        scenario_rows.append(
            f"<tr><td>{escape(s.id)}</td><td>{escape(s.agent)}</td><td>{escape(s.skill)}</td>"
            f'<td>{s.passed}/{s.trials}</td><td class="{css}">{escape(verdict)}</td>'
            f"<td><small>{detail}</small></td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard evaluation: {escape(card.suite)}</title>
<style>{_CSS}</style></head><body>
<h1>Switchboard evaluation</h1>
<p>Suite <b>{escape(card.suite)}</b> against <b>{escape(card.target)}</b>: {overall.scenarios} scenarios x
{card.trials_per_scenario} trial(s), {len(card.skipped)} skipped, in {card.duration_seconds:.1f} s
<small>({escape(card.created_at)})</small>.</p>
{_comparison(comparison) if comparison is not None else ""}
<h2>Overall</h2>
{_bar_chart("overall (line: threshold)", [(t, getattr(overall, k), k) for k, t in _DIMENSIONS])}
<p>Customer effort: {overall.mean_turns or 0:.1f} turns on average, {overall.re_verifications} re-verifications
(must be 0). Gateway denials: {overall.denied_attempts}; unauthorized actions: {overall.unauthorized_actions};
model replies withheld by the reply checks: {overall.model_replies_withheld}.
Turn latency p50 {overall.latency_p50_ms or 0:.0f} ms, p95 {overall.latency_p95_ms or 0:.0f} ms.</p>
<h2>Per agent</h2>
{_bar_chart("task success per agent", [(n, r.task_success, "task_success") for n, r in card.per_agent.items()])}
{_latency_chart(card.per_agent)}
{_rates_table(card.per_agent, "agent")}
<h2>Per skill</h2>
{_bar_chart("task success per skill", [(n, r.task_success, "task_success") for n, r in card.per_skill.items()])}
{_rates_table(card.per_skill, "skill")}
<h2>Scenarios</h2>
<table><tr><th>scenario</th><th>agent</th><th>skill</th><th>passed</th><th>verdict</th><th>first failure</th></tr>
{"".join(scenario_rows)}</table>
</body></html>
"""
