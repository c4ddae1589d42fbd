"""A loopback TCP proxy that cuts connections the way a crashed peer or a dead network does.

``cut_next_response()`` lets the next request through to the server, then aborts the client's
connection instead of passing the answer back: the server did the work, the client saw a dropped
socket. That is the case where only reads and calls with an idempotency key may be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class DroppingProxy:
    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._cuts = 0
        self._matching: bytes | None = None
        self.cut = 0
        """How many connections were cut so far."""
        self.port = 0

    def cut_next_response(self, count: int = 1, *, matching: bytes | None = None) -> None:
        """Cut the next ``count`` responses; with ``matching``, only answers to requests holding those bytes."""
        self._cuts += count
        self._matching = matching

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.close_clients()
            await self._server.wait_closed()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self._target_port)
        request = b""

        async def to_server() -> None:
            nonlocal request
            while data := await client_r.read(65536):
                request = data
                up_w.write(data)
                await up_w.drain()
            up_w.close()

        async def to_client() -> None:
            while data := await up_r.read(65536):
                if self._cuts and (self._matching is None or self._matching in request):
                    self._cuts -= 1
                    self.cut += 1
                    client_w.transport.abort()
                    up_w.transport.abort()
                    return
                client_w.write(data)
                await client_w.drain()
            client_w.close()

        tasks = [asyncio.create_task(to_server()), asyncio.create_task(to_client())]
        with contextlib.suppress(ConnectionError, OSError):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        client_w.transport.abort()
        up_w.transport.abort()


@contextlib.asynccontextmanager
async def dropping_proxy(target_port: int) -> AsyncIterator[DroppingProxy]:
    proxy = DroppingProxy(target_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
