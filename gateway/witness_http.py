"""The HTTP audit witness: signed checkpoint lines kept by a service the gateway's host cannot rewrite.

Protocol (small on purpose, so any team can run its own):
- ``POST <url>`` with one signed checkpoint line as the body (``Authorization: Bearer <token>``
  when the witness asks for one): the witness appends it and answers 2xx;
- ``GET <url>``: every line it keeps, as JSON lines, for ``audit verify``.

``HttpWitness`` is the gateway's client. Lines are sent in order by its own thread, retried
with a growing pause while the witness is away, so a slow or absent witness never holds up an
audit write; verify then shows the witness lagging. ``witness_app`` is a reference witness
(``switchboard audit witness``): it appends each well-formed line to a file in a folder of its
own and never rewrites it. Run it on another host or under another account than the gateway:
a witness the gateway's host can rewrite proves nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.checkpoints import CHECKPOINTS_FILE, append_line
from gateway.witness_queue import LineQueue
from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)
MAX_LINE = 64 * 1024


class HttpWitness:
    """Sends each checkpoint line to an HTTP witness, in order, from its own thread."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 5.0) -> None:
        self.url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._sender = LineQueue("audit-witness-http", self._deliver, url)

    def send(self, line: bytes) -> None:
        """Queue ``line``; never blocks the caller (the audit store's thread)."""
        self._sender.put(line)

    def lines(self) -> list[str]:
        """Every line the witness keeps (blocking: a command-line tool, or a worker thread)."""
        try:
            response = httpx.get(self.url, headers=self._headers, timeout=self._timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"the audit witness at {self.url} could not be read ({exc})",
                hint="check that the witness runs and answers GET; verify needs it to rule out a rollback",
            ) from exc
        return [line for line in response.text.splitlines() if line.strip()]

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (bounded by ``timeout``), then stop."""
        self._sender.close(timeout)
        if self._client is not None:
            self._client.close()

    def _deliver(self, line: bytes) -> bool:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, headers=self._headers)
        response = self._client.post(self.url, content=line)
        if response.status_code >= 500:
            raise ServiceUnavailable(f"the witness answered {response.status_code}")
        return response.is_success


def witness_app(folder: Path, token: str | None = None) -> Starlette:
    """A reference witness keeping lines in ``folder/audit-checkpoints.jsonl`` (append-only)."""
    path = Path(folder) / CHECKPOINTS_FILE
    Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    expected = f"Bearer {token}" if token else None

    async def keep(request: Request) -> Response:
        if expected is not None and request.headers.get("authorization") != expected:
            return JSONResponse({"error": {"code": "unauthenticated", "message": "a witness token is required"}}, 401)
        body = await request.body()
        if len(body) > MAX_LINE:
            return JSONResponse({"error": {"code": "too_large", "message": "one checkpoint line at a time"}}, 413)
        try:
            line = json.loads(body)
            ok = isinstance(line, dict) and {"seq", "hash", "time", "sig"} <= set(line)
        except ValueError:
            ok = False
        if not ok:
            return JSONResponse({"error": {"code": "invalid", "message": "not a signed checkpoint line"}}, 400)
        text = json.dumps(line).encode() + b"\n"
        await asyncio.to_thread(append_line, path, text)
        return JSONResponse({"kept": True}, status_code=201)

    def read() -> str:
        return path.read_text(encoding="utf-8") if path.exists() else ""

    async def show(request: Request) -> Response:
        text = await asyncio.to_thread(read)
        return PlainTextResponse(text, media_type="application/jsonl", headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/", keep, methods=["POST"]), Route("/", show, methods=["GET"])])
