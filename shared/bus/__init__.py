"""Event bus implementations: in-process for the embedded default, NATS JetStream for scale-out.

The NATS client is imported only when a NATS bus is opened (or ``NatsBus`` is named): the
embedded default never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.bus.memory import InProcessBus
from shared.bus.replica import DEFAULT_DEPLOYMENT, DEFAULT_RETENTION_SECONDS, default_replica
from shared.errors import ConfigurationError
from shared.events import EventBus

if TYPE_CHECKING:
    from shared.bus.nats import NatsBus

__all__ = ["InProcessBus", "NatsBus", "default_replica", "open_bus"]


def __getattr__(name: str) -> Any:
    if name == "NatsBus":
        from shared.bus.nats import NatsBus

        return NatsBus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def open_bus(
    url: str | None, *, deployment: str = DEFAULT_DEPLOYMENT, retention_seconds: float = DEFAULT_RETENTION_SECONDS
) -> EventBus:
    """The bus a URL names: none or ``memory://`` is in-process, ``nats://host:port`` is JetStream.

    On NATS, ``deployment`` names the stream and its subjects and ``retention_seconds`` bounds
    how long it keeps an event. A NATS server that is down does not stop the caller: the bus
    keeps connecting in the background (and logs so) while outboxes hold the events.
    """
    if not url or url.startswith("memory:"):
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        from shared.bus.nats import NatsBus

        return await NatsBus.connect(url, deployment=deployment, retention_seconds=retention_seconds)
    raise ConfigurationError(
        f"unknown event bus URL {url!r}", hint="use nats://host:4222 for NATS JetStream, or leave it unset"
    )
