"""Where a deployment's events live on a NATS server, and which subject each consumer reads.

Names and shapes only, no connection: the deployment's stream and its subjects, the subjects
push consumers deliver to, and the filter subjects a subscriber's consumers take. ``NatsBus``
(``shared.bus.nats``) uses them; tests and tools that look at the server use them to find
what the bus made.
"""

from __future__ import annotations

from collections.abc import Collection

from nats.js.api import StreamConfig

from shared.bus.replica import safe_name

DUPLICATE_WINDOW_SECONDS = 120.0
"""How long the stream remembers an event id: a relay republishing a row (crash between publish and
mark) within it stores the event once; later copies are deduplicated by the consumers."""


def stream_name(deployment: str) -> str:
    return f"SWITCHBOARD_{safe_name(deployment).upper()}_EVENTS"


def subject_root(deployment: str) -> str:
    return f"switchboard.{safe_name(deployment).lower()}.events"


def deliver_root(deployment: str) -> str:
    """Where this deployment's push consumers deliver: outside the stream's subjects, so a
    delivery is never stored as an event, and named per deployment so two never cross."""
    return f"_switchboard.{safe_name(deployment).lower()}.deliver"


def stream_config(stream: str, subjects: str, retention_seconds: float) -> StreamConfig:
    """The stream ``stream`` on every subject under ``subjects``, keeping events ``retention_seconds``."""
    # The server refuses a duplicate window longer than the age bound (a short-lived test deployment).
    window = min(DUPLICATE_WINDOW_SECONDS, retention_seconds)
    return StreamConfig(name=stream, subjects=[f"{subjects}.>"], duplicate_window=window, max_age=retention_seconds)


def filter_subject(subjects: str, kinds: Collection[str] | None) -> str:
    """The one subject under ``subjects`` a consumer of ``kinds`` filters on: the narrowest wildcard
    that covers them all (``….network.*`` for the network signals), since a server before 2.10 takes one."""
    if not kinds:
        return f"{subjects}.>"
    split = [kind.split(".") for kind in kinds]
    common: list[str] = []
    for tokens in zip(*split, strict=False):
        if len(set(tokens)) > 1:
            break
        common.append(tokens[0])
    if len(set(map(len, split))) == 1 and len(common) == len(split[0]):
        return ".".join([subjects, *common])  # one kind
    if len(set(map(len, split))) == 1 and len(common) == len(split[0]) - 1:
        return ".".join([subjects, *common, "*"])
    return ".".join([subjects, *common, ">"])


def consumer_subjects(subjects: str, name: str, kinds: Collection[str] | None) -> list[tuple[str, str]]:
    """The consumers (name, filter subject) a subscriber ``name`` of ``kinds`` reads from.

    One, on ``filter_subject``, unless that takes a ``>`` wildcard over other kinds too: then
    one per kind, each on its own subject. A server before 2.10 takes one filter per consumer,
    and a wildcard over everything sent this subscriber every event of the deployment, each
    system's feed watermarks included (several a second while idle), only to be acknowledged
    unread.
    """
    subject = filter_subject(subjects, kinds)
    if not kinds or len(kinds) == 1 or not subject.endswith(".>"):
        return [(name, subject)]
    return [(f"{name}-{safe_name(kind)}", f"{subjects}.{kind}") for kind in sorted(kinds)]
