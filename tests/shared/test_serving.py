"""The uvicorn adapter (shared/serving.py): fails loudly when an upgrade changes the hooks it overrides,
or when the event loop or HTTP parser every service runs on is not the fast one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.errors import ConfigurationError
from shared.serving import READY_TIMEOUT_SECONDS, READY_TIMEOUT_SETTING, bind, run, start, url_of
from shared.settings import Settings


def _app() -> Starlette:
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", ok)])


async def test_ready_on_start_and_signal_handlers_left_to_the_owner() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    sock = bind()
    running = await start("probe", _app(), sock, timeout=10)
    try:
        # Ready means serving: the event fired (start returned) and a request is answered.
        assert running.server.ready.is_set() and running.server.started
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(url_of(sock))).text == "ok"
        # uvicorn must not have installed its own handlers while serving: with many servers on one
        # loop the last would win. If this fails, uvicorn renamed or bypassed Server.capture_signals.
        assert {sig: signal.getsignal(sig) for sig in before} == before
    finally:
        await running.stop()
    assert running.task.done()


async def test_a_server_not_ready_in_time_is_named_with_the_setting_to_raise() -> None:
    never = asyncio.Event()  # a start-up that never ends, as on a machine too busy to finish it

    @contextlib.asynccontextmanager
    async def stuck(app: Starlette) -> AsyncIterator[None]:
        await never.wait()
        yield

    sock = bind()
    try:
        with pytest.raises(ConfigurationError) as failed:
            await start("agent:billing", Starlette(lifespan=stuck), sock, timeout=0.2)
    finally:
        sock.close()
    assert failed.value.message == "agent:billing was not ready within 0.2 s"
    assert failed.value.hint is not None and f"raise {READY_TIMEOUT_SETTING} (now 0.2)" in failed.value.hint


def test_the_ready_timeout_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().ready_timeout_seconds == READY_TIMEOUT_SECONDS == 120
    monkeypatch.setenv(READY_TIMEOUT_SETTING, "240")
    assert Settings().ready_timeout_seconds == 240
    monkeypatch.setenv(READY_TIMEOUT_SETTING, "0")
    with pytest.raises(ValueError):
        Settings()


async def test_replicas_on_one_host_share_a_port_only_when_asked() -> None:
    first = bind(reuse_port=True)
    port = first.getsockname()[1]
    second = bind(port=port, reuse_port=True)
    names = {"a": "one", "b": "two"}
    servers = []
    try:
        for sock, name in ((first, "a"), (second, "b")):

            async def answer(request: object, name: str = name) -> PlainTextResponse:
                return PlainTextResponse(names[name])

            servers.append(await start(name, Starlette(routes=[Route("/", answer)]), sock, timeout=10))
        # Each new connection goes to either process: both answer on the one port.
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).text in ("one", "two")
        with pytest.raises(OSError):
            bind(port=port).close()  # without the option the port stays taken
    finally:
        for server in servers:
            await server.stop()


def test_services_run_on_libuvs_loop_and_parse_http_in_c() -> None:
    async def serve_once() -> tuple[str, str]:
        sock = bind()
        running = await start("probe", _app(), sock, timeout=10)
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                assert (await http.get(url_of(sock))).text == "ok"
            protocol = running.server.config.http_protocol_class
            return type(asyncio.get_running_loop()).__module__, protocol.__module__
        finally:
            await running.stop()

    loop, protocol = run(serve_once())
    assert loop.startswith("uvloop") and protocol.endswith("httptools_impl")


_SETTLE_PROBE = """
import gc, weakref
from shared.serving import settle_heap

class Node:
    pass

gc.disable()  # nothing but settle_heap collects in this probe, as in a process of switchboard up
cycle = Node()
cycle.itself = cycle
gone = weakref.ref(cycle)
del cycle
settle_heap()
print(gone() is None, gc.get_freeze_count() > 0, gc.isenabled())
"""


def test_start_up_garbage_is_collected_and_the_rest_frozen() -> None:
    # Its own interpreter: freezing the test runner's heap would outlive this test.
    probe = subprocess.run(
        [sys.executable, "-c", _SETTLE_PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    collected, frozen, collecting = probe.stdout.split()
    assert collected == "True", "a cycle made during start-up must be collected, not frozen for ever"
    assert frozen == "True", "what start-up built must leave the collector's generations"
    assert collecting == "True", "what turns create must be collected once the process serves"


def test_serving_loads_no_websocket_library() -> None:
    """No service speaks WebSocket, so serving must not import a WebSocket library (a start-up cost)."""
    probe = (
        "import asyncio, json, sys\n"
        "from starlette.applications import Starlette\n"
        "from shared.serving import bind, start\n"
        "async def main():\n"
        "    running = await start('probe', Starlette(), bind(), timeout=10)\n"
        "    await running.stop()\n"
        "asyncio.run(main())\n"
        "print(json.dumps(sorted(m for m in ('websockets', 'wsproto') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert json.loads(out.splitlines()[-1]) == []
