"""Conversation export as IETF vCon: one conversation, a time range, or a continuous feed.

Public surface: ``build_vcon`` (a conversation record to a ``vcon.Vcon``), ``load_conversation``
and ``conversation_ids`` (reading a data directory), ``Feed`` with ``FileSink`` / ``WebhookSink``.
See ``docs/vcon.md``.
"""

from orchestrator.export.feed import DEFAULT_IDLE_SECONDS, Feed, FileSink, WebhookSink
from orchestrator.export.redaction import MODES
from orchestrator.export.source import conversation_ids, load_conversation
from orchestrator.export.vcon_export import build_vcon, vcon_uuid

__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "MODES",
    "Feed",
    "FileSink",
    "WebhookSink",
    "build_vcon",
    "conversation_ids",
    "load_conversation",
    "vcon_uuid",
]
