"""A round-robin TCP load balancer, what compose's service name or a cloud LB gives each replica set.

Each new connection goes to the next backend; a backend that refuses the connection (its
process is gone) is skipped, as a health-checked balancer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, on_data: Callable[[], None] = lambda: None
) -> None:
    try:
        while data := await reader.read(65536):
            on_data()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.connections: list[int] = [0] * len(backends)
        self.requests: list[int] = [0] * len(backends)
        """Chunks each backend received: which replica actually did work, keep-alive or not."""
        self.last: int | None = None
        """The backend the latest connection went to (where a keep-alive client is talking now)."""

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        for _ in range(len(self.backends)):
            index = next(self._next)
            try:
                reader, writer = await asyncio.open_connection(*self.backends[index])
            except OSError:
                continue
            self.connections[index] += 1
            self.last = index
            count = lambda i=index: self.requests.__setitem__(i, self.requests[i] + 1)  # noqa: E731
            await asyncio.gather(_pipe(client_reader, writer, count), _pipe(reader, client_writer))
            return
        client_writer.close()


@contextlib.asynccontextmanager
async def balancing(backends: list[tuple[str, int]], port: int) -> AsyncIterator[Balancer]:
    balancer = Balancer(backends)
    server = await asyncio.start_server(balancer._handle, "127.0.0.1", port)
    try:
        yield balancer
    finally:
        server.close()
        server.close_clients()
        await server.wait_closed()
