"""The real model client: any provider litellm knows, by model name.

litellm is imported on the first call, never at start-up of a deployment without a model: the
import costs seconds and, left to its defaults, would fetch a price list from the internet. Before
importing it we pin the bundled price list and switch off its callbacks, so the only network
traffic is the completion request to the configured provider.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from types import ModuleType
from typing import Any

from shared import telemetry
from shared.llm.model import (
    Message,
    ModelReply,
    ModelUnavailable,
    ToolCall,
    ToolSpec,
    Usage,
    check_model_requests_allowed,
)
from shared.llm.streaming import abandon_at, stream_completion

logger = logging.getLogger(__name__)
_MESSAGE_CHARS = 300  # of each failure's message in the log: enough to name it, not a response body


_warm_lock = threading.Lock()
_warmed: set[str] = set()


def warm_up(model: str) -> None:
    """Pay litellm's import and its lazy first-call set-up for ``model`` once, with no network.

    Both take seconds (hundreds of modules); done inside the first customer's call they would eat
    its time-out and send it to the fallback. ``client_from_settings`` runs this in the background
    at start-up, and every call waits for it before its deadline starts.
    """
    with _warm_lock:
        if model in _warmed:
            return
        litellm = _litellm()
        try:
            # A mocked answer runs litellm's request path without sending anything.
            litellm.completion(model=model, messages=[{"role": "user", "content": "-"}], mock_response="-")
            _accepts_tool_choice(model)
            import openai  # the OpenAI-compatible providers' client; its resources load lazily

            openai.AsyncOpenAI(api_key="warm-up", base_url="http://127.0.0.1:9").chat.completions  # noqa: B018
        except Exception as exc:  # warming is an optimisation; the real call reports real errors
            logger.info("warming up %s did not finish: %s", model, type(exc).__name__)
        _warmed.add(model)


# litellm's provider prefixes whose GenAI semantic-convention names differ.
_PROVIDER_NAMES = {
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "mistral": "mistral_ai",
    "watsonx": "ibm.watsonx.ai",
    "xai": "x_ai",
}


def provider_name(model: str) -> str:
    """``gen_ai.provider.name`` for a litellm model name: its provider prefix (bare names are OpenAI's)."""
    prefix = model.split("/", 1)[0] if "/" in model else "openai"
    return _PROVIDER_NAMES.get(prefix, prefix)


@cache
def _litellm() -> ModuleType:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    import litellm

    litellm.callbacks = []
    litellm.success_callback = []
    litellm.failure_callback = []
    litellm.suppress_debug_info = True
    litellm.turn_off_message_logging = True
    litellm.disable_hf_tokenizer_download = True
    # litellm logs every call at INFO on its own handler; our records of model calls are enough.
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    return sys.modules["litellm"]  # typed as a module: mypy skips litellm's own types ([tool.mypy])


class LiteLLMClient:
    """A ``ModelClient`` for ``model`` (``openai/gpt-4o-mini``, ``ollama/llama3.2`` ...) through litellm."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout_seconds: float = 20.0,
        retries: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 600,
        structured_output: str = "json_schema",
        stream_tools: bool = True,
    ) -> None:
        self._model = model
        self._provider = provider_name(model)
        # litellm's own retries are off: a retry after a time-out would queue behind the abandoned
        # request on a one-at-a-time server, so this client retries only a refused connection.
        self._options: dict[str, Any] = {"num_retries": 0, "temperature": temperature}
        if api_base:
            self._options["api_base"] = api_base
        if api_key:
            self._options["api_key"] = api_key
        self._timeout = timeout_seconds
        self._max_tokens = max_tokens
        self._retries = retries
        self._structured_output = structured_output
        self._stream_tools = stream_tools

    @property
    def name(self) -> str:
        return self._model

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] = (),
        schema: Mapping[str, Any] | None = None,
        timeout_seconds: float | None = None,
        max_tokens: int | None = None,
    ) -> ModelReply:
        timeout = self._timeout if timeout_seconds is None else min(self._timeout, timeout_seconds)
        tokens = self._max_tokens if max_tokens is None else min(self._max_tokens, max_tokens)
        with telemetry.span(f"chat {self._model}", kind=telemetry.SpanKind.CLIENT) as span:
            reply = await self._complete(messages, tools=tools, schema=schema, timeout=timeout, max_tokens=tokens)
            if span is not None:
                telemetry.set_attributes(
                    span,
                    {
                        telemetry.OPERATION: "chat",
                        telemetry.PROVIDER_NAME: self._provider,
                        telemetry.REQUEST_MODEL: self._model,
                    }
                    | {
                        telemetry.INPUT_TOKENS: reply.usage.prompt_tokens,
                        telemetry.OUTPUT_TOKENS: reply.usage.completion_tokens,
                    },
                )
            return reply

    async def _complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec],
        schema: Mapping[str, Any] | None,
        timeout: float,
        max_tokens: int,
    ) -> ModelReply:
        check_model_requests_allowed(self._model)
        await asyncio.to_thread(warm_up, self._model)
        litellm = _litellm()
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            **self._options,
        }
        if tools:
            request["tools"] = [t.as_openai() for t in tools]
            if _accepts_tool_choice(self._model):
                # "auto" is OpenAI's default, but llama.cpp's Python server offers the tools (with a
                # grammar) only when it is sent; providers that reject the field never get it.
                request["tool_choice"] = "auto"
        if schema is not None:
            request["response_format"] = self._response_format(schema)
        loop = asyncio.get_running_loop()
        ends = loop.time() + timeout
        attempts = self._retries + 1
        while True:
            attempts -= 1
            try:
                # A server that cannot stream tool calls gets them whole; giving up on such a request
                # then stops only the client, so time-outs still are never retried.
                whole = bool(tools) and not self._stream_tools
                answer = litellm.acompletion(**request) if whole else stream_completion(litellm, request)
                response = await abandon_at(ends, answer)
            except TimeoutError:
                # The stream was closed when the time ran out, so the server stops writing; a retry
                # now would only wait behind whatever it still has to finish.
                raise ModelUnavailable(f"model {self._model} did not answer in time") from None
            except Exception as exc:  # litellm maps every provider failure to its own exception tree
                refused = isinstance(exc, litellm.APIConnectionError) and not isinstance(exc, litellm.Timeout)
                if refused and attempts > 0 and ends - loop.time() > 1.0:
                    logger.info("model %s refused the connection; retrying once", self._model)
                    continue
                # The log says what failed (a provider's error, a warning turned into an error
                # under a strict filter); the caller and the customer get the class name only.
                logger.warning("model %s failed: %s", self._model, _failure(exc, self._options.get("api_key")))
                raise ModelUnavailable(f"model {self._model} failed: {type(exc).__name__}") from exc
            return _reply(litellm, response, self._model)

    def _response_format(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        if self._structured_output == "json_object":
            return {"type": "json_object", "schema": dict(schema)}
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": dict(schema)}}


def _failure(exc: BaseException, secret: str | None) -> str:
    """``Class: message`` of a failed call and of up to two errors it wraps, with the key masked.

    litellm wraps the provider's error (``original_exception``, or the exception's cause), and
    a provider may echo the request's key in its message.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 3:
        seen.add(id(current))
        text = " ".join(str(current).split())
        text = (text.replace(secret, "***") if secret else text)[:_MESSAGE_CHARS]
        parts.append(f"{type(current).__name__}: {text}" if text else type(current).__name__)
        wrapped = getattr(current, "original_exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__ or current.__context__
    return " <- ".join(parts)


@cache
def _accepts_tool_choice(model: str) -> bool:
    litellm = _litellm()
    try:
        name, provider, _, _ = litellm.get_llm_provider(model)
        return "tool_choice" in (litellm.get_supported_openai_params(model=name, custom_llm_provider=provider) or [])
    except Exception:  # an unknown provider: leave the field out, as before
        return False


def _reply(litellm: ModuleType, response: Any, model: str) -> ModelReply:
    try:
        choice = response.choices[0]
        message = choice.message
    except (AttributeError, IndexError) as exc:
        raise ModelUnavailable(f"model {model} returned no choices") from exc
    calls = []
    for number, raw in enumerate(getattr(message, "tool_calls", None) or []):
        try:
            arguments = json.loads(raw.function.arguments or "{}")
        except (TypeError, ValueError):
            arguments = None
        calls.append(
            ToolCall(
                id=str(getattr(raw, "id", "") or f"call-{number}"),
                name=str(raw.function.name or ""),
                arguments=arguments if isinstance(arguments, dict) else None,
            )
        )
    usage = getattr(response, "usage", None)
    try:
        cost = float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # a self-hosted model has no price: usage is still recorded
        cost = 0.0
    return ModelReply(
        text=str(getattr(message, "content", None) or ""),
        tool_calls=tuple(calls),
        usage=Usage(
            calls=1,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=round(cost, 8),
        ),
        model=model,
        finish_reason=str(getattr(choice, "finish_reason", None) or ""),
    )


def client_from_settings(role: str, settings: Any) -> LiteLLMClient | None:
    """The litellm client for ``role`` under ``LLMSettings``, or None when the role has no model."""
    model = settings.model_for(role)
    if model is None:
        return None
    key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    threading.Thread(target=warm_up, args=(model,), name=f"warm-up {model}", daemon=True).start()
    return LiteLLMClient(
        model,
        api_base=settings.model_api_base,
        api_key=key,
        timeout_seconds=settings.model_timeout_seconds,
        retries=settings.model_retries,
        temperature=settings.model_temperature,
        max_tokens=settings.model_max_tokens,
        structured_output=settings.structured_output,
        stream_tools=settings.model_stream_tools,
    )
