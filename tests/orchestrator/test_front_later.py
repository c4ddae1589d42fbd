"""The A2A front built after start-up: early requests wait for it, a failed build answers 503."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route

from orchestrator.front_later import CARD_PATH, MOUNT, LateFront

pytestmark = pytest.mark.asyncio


class _Front:
    """Stands in for ``A2AFront``: a card naming the published skills, one guarded route."""

    def __init__(self) -> None:
        self.skills: list[str] = []
        self.closed = False

    def publish(self, specs: list[str]) -> None:  # the real one takes SkillSpecs
        self.skills = specs

    def card_routes(self) -> list[BaseRoute]:
        async def card(request: Request) -> JSONResponse:
            return JSONResponse({"skills": self.skills})

        return [Route(CARD_PATH, card)]

    def guarded_app(self) -> Starlette:
        async def rpc(request: Request) -> PlainTextResponse:
            return PlainTextResponse(f"rpc at {request.url.path}")

        return Starlette(routes=[Route("/jsonrpc", rpc, methods=["POST"])])

    async def aclose(self) -> None:
        self.closed = True


def _app(late: LateFront) -> Starlette:
    return Starlette(routes=[Route(CARD_PATH, late.card), Mount(MOUNT, app=late.guarded)])


async def test_a_request_before_the_front_is_built_waits_for_it() -> None:
    late, front = LateFront(), _Front()
    release = threading.Event()

    def load() -> tuple[object, None]:
        release.wait(timeout=10)  # the import, still under way when the request arrives
        return lambda store: front, None

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(late)), base_url="http://t") as http:
        card = asyncio.create_task(http.get(CARD_PATH))
        rpc = asyncio.create_task(http.post(f"{MOUNT}/jsonrpc"))
        building = asyncio.create_task(late.build(load, ["billing-question"]))  # type: ignore[arg-type,list-item]
        assert late.state == "starting" and not card.done()
        release.set()
        async with asyncio.timeout(10):
            await building
            assert (await card).json() == {"skills": ["billing-question"]}
            assert (await rpc).text == "rpc at /a2a/jsonrpc"
    assert late.state == "ready"
    await late.aclose()
    assert front.closed


async def test_a_front_that_fails_to_build_answers_503() -> None:
    late = LateFront()

    def load() -> tuple[object, None]:
        raise RuntimeError("the task store is unreadable")

    await late.build(load, [])  # type: ignore[arg-type]
    assert late.state == "failed"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(late)), base_url="http://t") as http:
        card = await http.get(CARD_PATH)
        rpc = await http.post(f"{MOUNT}/jsonrpc")
    assert (card.status_code, rpc.status_code) == (503, 503)
    assert card.json()["error"]["message"] == "the A2A front is not available"
