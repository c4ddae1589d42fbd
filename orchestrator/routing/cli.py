"""``switchboard route --jsonl``: route messages from a stream, one JSON decision per line.

Useful to see how the offline brain reads real customer wording without starting any service.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from orchestrator.routing.calibration import TARGET_WRONG
from orchestrator.routing.offline import DEFAULT_MAX_CHARS, OfflineBrain
from orchestrator.routing.specs import skill_specs_from_skills
from shared.errors import SwitchboardError
from shared.skills import load_skills


def route_jsonl(
    stdin: TextIO,
    stdout: TextIO,
    *,
    threshold: float = 0.45,
    cache_dir: Path | None = None,
    wrong_budget: float = TARGET_WRONG,
) -> int:
    """Route each non-blank line of ``stdin``; write one JSON object per routed line to ``stdout``.

    A routed line gives ``agent``, ``skill``, ``confidence``, ``reason`` and ``clarify`` (true when
    the supervisor would ask a clarifying question). A line it cannot route (longer than
    2,000 characters) gives ``{"line": n, "error": {...}}`` and routing carries on.
    Returns the exit status: 0 when every line was routed, 1 when any line was rejected.
    With ``cache_dir`` the brain loads the weights an earlier start trained there, or keeps them;
    ``wrong_budget`` picks its operating point, as ``SWITCHBOARD_ROUTE_WRONG_BUDGET`` does for a stack.
    """
    specs = skill_specs_from_skills(load_skills())
    brain = OfflineBrain.from_skills(specs, max_chars=DEFAULT_MAX_CHARS, cache_dir=cache_dir, wrong_budget=wrong_budget)
    rejected = 0
    for number, line in enumerate(stdin, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        out: dict[str, Any]
        try:
            decision = brain.decide(text)
        except SwitchboardError as exc:
            rejected += 1
            out = {"line": number, "error": exc.to_dict()}
        else:
            out = {
                "agent": decision.agent,
                "skill": decision.skill,
                "confidence": decision.confidence,
                "reason": decision.reason,
                "clarify": decision.agent is None or decision.confidence < threshold,
            }
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        # A caller piping messages one at a time sees each answer as soon as it is ready.
        stdout.flush()
    return 1 if rejected else 0
