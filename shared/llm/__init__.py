"""Model clients every process may use: the interface, a litellm client, a scripted double.

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
    "reply",
]
