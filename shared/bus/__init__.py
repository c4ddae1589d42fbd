"""Event bus implementations: in-process for the embedded default, NATS JetStream for scale-out."""

from shared.bus.memory import InProcessBus
from shared.bus.nats import NatsBus

__all__ = ["InProcessBus", "NatsBus"]
