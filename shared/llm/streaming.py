"""Model answers read as a stream, so that giving up on one also stops the server writing it.

A non-streamed request that the client abandons keeps running on the server: a one-at-a-time CPU
server then answers the next request only after it has finished writing one nobody reads. With a
stream, giving up closes the connection, and OpenAI-compatible servers (llama.cpp included) stop
generating when their client goes away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from types import ModuleType
from typing import Any


async def abandon_at[T](when: float, work: Awaitable[T]) -> T:
    """``work``, cancelled at loop time ``when`` (raises TimeoutError then)."""
    async with asyncio.timeout_at(when):
        return await work


async def stream_completion(litellm: ModuleType, request: dict[str, Any]) -> Any:
    """One completion, streamed and reassembled into litellm's usual response object.

    The stream is closed on every exit, cancellation included, which closes the connection.
    """
    stream = await litellm.acompletion(**request, stream=True, stream_options={"include_usage": True})
    chunks: list[Any] = []
    try:
        async for chunk in stream:
            chunks.append(chunk)
    finally:
        await asyncio.shield(_close(stream))
    if not chunks:
        raise ValueError("the model's stream ended without a chunk")
    response = litellm.stream_chunk_builder(chunks, messages=request["messages"])
    if response is None:
        raise ValueError("the model's stream could not be reassembled")
    return response


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # closing a broken stream can fail; the connection is gone either way
            return
