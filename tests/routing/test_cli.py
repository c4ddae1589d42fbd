"""``route_jsonl``: one decision per line, bad lines reported in place, the stream carries on."""

from __future__ import annotations

import io
import json

from orchestrator.routing.cli import route_jsonl
from shared.settings import Settings

# The suite's shared weights (tests/conftest.py): each call starts a brain, which would otherwise
# train the same skills again.
CACHE = Settings().cache_dir


def _run(text: str, threshold: float = 0.45) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = route_jsonl(io.StringIO(text), out, threshold=threshold, cache_dir=CACHE)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_routes_each_line_and_skips_blank_ones() -> None:
    status, lines = _run("why is my bill so high this month\n\n   \nhello\r\ncan i talk to a person\n")
    assert status == 0
    assert [(o["agent"], o["skill"], o["clarify"]) for o in lines] == [
        ("billing", "explain-bill", False),
        (lines[1]["agent"], lines[1]["skill"], True),
        ("escalation", "human-handoff", False),
    ]
    for line in lines:
        assert set(line) == {"agent", "skill", "confidence", "reason", "clarify"}
        assert 0.0 <= line["confidence"] <= 1.0 and line["reason"]


def test_over_long_line_is_an_error_and_routing_continues() -> None:
    status, lines = _run("x" * 2001 + "\n" + "b" * 2000 + "\nmy internet is down\n")
    assert status == 1
    assert lines[0] == {"line": 1, "error": lines[0]["error"]}
    assert lines[0]["error"]["code"] == "payload_too_large"
    assert "clarify" in lines[1]  # exactly at the limit is routed
    assert lines[2]["skill"] == "troubleshoot-service"


def test_threshold_decides_clarify() -> None:
    _, strict = _run("my bill is wrong\n", threshold=1.01)
    assert strict[0]["clarify"] is True


def test_unroutable_punctuation_and_empty_input() -> None:
    status, lines = _run("???\n")
    assert status == 0 and lines[0]["agent"] is None and lines[0]["clarify"] is True
    assert _run("") == (0, [])


def test_non_ascii_text_passes_through() -> None:
    _, lines = _run("meine Rechnung ist zu hoch 💸 — why is the bill so high\n")
    assert lines[0]["skill"] == "explain-bill"
