"""Naming a service problem from free text, and recognising the same problem in history."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.runtime.text import parse_time

REPEAT_WINDOW = timedelta(days=30)

# Ordered: the first category with a matching word wins ("no signal when roaming" is roaming).
_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("roaming", ("roaming", "abroad", "travel", "overseas")),
    ("sim", ("sim", "esim", "puk", "pin")),
    ("calls", ("call", "calls", "calling", "voicemail", "dial", "ring")),
    ("messaging", ("sms", "text", "texts", "message", "messages", "mms")),
    (
        "connectivity",
        (
            "data",
            "internet",
            "signal",
            "slow",
            "connection",
            "4g",
            "5g",
            "network",
            "coverage",
            "speed",
            "wifi",
            "hotspot",
            "tethering",
            "browse",
            "connect",
            "outage",
        ),
    ),
    ("device", ("phone", "device", "handset", "screen", "battery")),
)
GENERAL = "service"
_WORD = re.compile(r"[a-z0-9]+")

_CHANNEL_WORDS = {"voice": "by phone", "chat": "by chat", "email": "by email", "store": "in store"}


def categorize(text: str) -> str:
    words = set(_WORD.findall(text.lower()))
    for category, vocabulary in _CATEGORIES:
        if words.intersection(vocabulary):
            return category
    return GENERAL


def find_repeat(
    interactions: Iterable[dict[str, Any]],
    category: str,
    skill: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any] | None:
    """The latest earlier contact about the same problem within the repeat window, if any."""
    since = now() - REPEAT_WINDOW
    matches = []
    for item in interactions:
        started = parse_time(item.get("started_at"))
        if started is None or started < since:
            continue
        about = f"{item.get('topic', '')} {item.get('summary', '')}"
        same = categorize(about) == category if category != GENERAL else item.get("topic") == skill
        if same:
            matches.append((started, item))
    return max(matches, key=lambda m: m[0])[1] if matches else None


def find_recent_ticket(
    tickets: Iterable[dict[str, Any]],
    category: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any] | None:
    """The latest ticket about the same kind of problem opened within the repeat window."""
    since = now() - REPEAT_WINDOW
    matches = []
    for ticket in tickets:
        opened = parse_time(ticket.get("opened_at"))
        if opened is None or opened < since:
            continue
        if ticket.get("category") == category or categorize(str(ticket.get("summary", ""))) == category:
            matches.append((opened, ticket))
    return max(matches, key=lambda m: m[0])[1] if matches else None


def latest_ticket(
    tickets: Iterable[dict[str, Any]], *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any] | None:
    """The latest ticket opened within the repeat window, whatever it is about ("same problem")."""
    since = now() - REPEAT_WINDOW
    recent = [(opened, t) for t in tickets if (opened := parse_time(t.get("opened_at"))) and opened >= since]
    return max(recent, key=lambda m: m[0])[1] if recent else None


_TOTAL_LOSS = re.compile(r"\b(no (service|signal|network|internet)|not working at all|completely (down|dead))\b")


def is_total_loss(text: str) -> bool:
    return bool(_TOTAL_LOSS.search(text.lower()))


def channel_phrase(channel: str | None) -> str:
    return _CHANNEL_WORDS.get(channel or "", f"by {channel}" if channel else "")


def included_features(text: str, features: Iterable[str]) -> list[str]:
    """Plan features the customer's message mentions (billing's list is the truth)."""
    lowered = text.lower()
    found = []
    for feature in features:
        name = str(feature).lower().replace("_", " ").replace("-", " ")
        if name and (name in lowered or any(w in lowered for w in name.split() if len(w) >= 4)):
            found.append(str(feature))
    return found
