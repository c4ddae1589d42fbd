"""Specialists with a model: the governed tool loop and the specialists' scripted double.

Nothing here imports litellm until a model is configured and called.
"""

from shared.llm.model import (
    ModelClient,
    ModelReply,
    ModelRequestsRefused,
    ModelUnavailable,
    ToolCall,
    ToolSpec,
    Usage,
    allow_model_requests,
)
from shared.llm.scripted import ModelRequest, ScriptedModel, json_reply, reply
from shared.llm.settings import SCRIPTED_MODEL, LLMSettings, Role

__all__ = [
    "SCRIPTED_MODEL",
    "LLMSettings",
    "ModelClient",
    "ModelReply",
    "ModelRequest",
    "ModelRequestsRefused",
    "ModelUnavailable",
    "Role",
    "ScriptedModel",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "allow_model_requests",
    "json_reply",
    "model_client",
    "reply",
]


def model_client(role: Role, settings: LLMSettings | None = None) -> ModelClient | None:
    """The model for ``role`` (router, specialist, summary), or None when it stays offline.

    ``scripted`` gives the built-in double for specialists and summaries; the router builds its
    own scripted double (see ``orchestrator.routing.build_brain``).
    """
    settings = settings or LLMSettings()
    name = settings.model_for(role)
    if name is None:
        return None
    if name == SCRIPTED_MODEL:
        from agents.runtime.llm.offline_script import scripted_specialist_model

        return scripted_specialist_model()
    from shared.llm.litellm_client import client_from_settings

    return client_from_settings(role, settings)
