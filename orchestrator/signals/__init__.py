"""Network signals: CAMARA-shaped ingestion, fraud-hold enforcement, proactive reactions.

The gateway side (``enforcement``) is imported by the gateway app itself, not from here.
"""

from orchestrator.signals.ingest import SIGNATURE_HEADER, SignalWindow, signature
from orchestrator.signals.service import SignalService, signal_routes
from shared.secrets import load_or_create_secret

__all__ = [
    "SIGNATURE_HEADER",
    "SignalService",
    "SignalWindow",
    "load_or_create_secret",
    "signal_routes",
    "signature",
]
