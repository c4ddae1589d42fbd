"""Escalated cases on the human side: the queue's one ordering, take-over leases, hand-backs.

``CaseDesk`` is what the console and the channels use; ``CaseDesk.position_of(conversation_id)``
answers "where is conversation X in the queue, and how long is the wait" (``QueuePosition``).
"""

from orchestrator.cases.desk import CaseDesk, Presence
from orchestrator.cases.queue import QueueSettings, escalated_at, waiting_seconds

__all__ = ["CaseDesk", "Presence", "QueueSettings", "escalated_at", "waiting_seconds"]
