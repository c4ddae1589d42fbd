"""Network signals: CAMARA-shaped ingestion, fraud-hold enforcement, proactive reactions.

The gateway side (``enforcement``) is imported by the gateway app itself, not from here.
"""

from orchestrator.signals.ingest import SIGNATURE_HEADER, SignalWindow, load_or_create_secret, signature
from orchestrator.signals.service import SignalService, signal_routes

__all__ = [
    "SIGNATURE_HEADER",
    "SignalService",
    "SignalWindow",
    "load_or_create_secret",
    "signal_routes",
    "signature",
]
