"""The authenticated A2A caller, as the a2a-sdk sees it (shared with the orchestrator's A2A front)."""

from __future__ import annotations

from shared.service_auth.a2a import CallerContextBuilder, CallerUser

__all__ = ["CallerContextBuilder", "CallerUser"]
