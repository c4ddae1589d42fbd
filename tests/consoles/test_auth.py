"""Staff sign-in: sessions, cookies, CSRF and roles, on a small app and on the running stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestrator.consoles.auth import (
    COOKIE,
    SIGN_IN_COOKIE,
    ConsoleSettings,
    StaffSessions,
    page_guard,
    require_staff,
    sign_in_routes,
    with_sessions,
)
from shared.errors import SwitchboardError
from shared.secrets import StaffCredential
from tests.consoles.conftest import StaffClient, StaffFactory
from tests.e2e.conftest import RunningStack

ANN = ("ann", "ann-token-" + "a" * 33)
BOB = ("bob", "bob-token-" + "b" * 33)
TTL = 600


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def small_app(clock: Clock) -> tuple[Starlette, StaffSessions]:
    sessions = StaffSessions(
        {ANN[0]: StaffCredential(token=ANN[1], role="compliance"), BOB[0]: StaffCredential(token=BOB[1], role="agent")},
        ConsoleSettings(session_ttl_seconds=TTL),
        clock=clock,
    )

    async def secret(request: Request) -> JSONResponse:
        session = await require_staff(request, {"compliance", "admin"})
        return JSONResponse({"name": session.name, "method": request.method})

    async def page(request: Request) -> Response:
        session = await page_guard(request, {"compliance"})
        return session if isinstance(session, Response) else Response(f"hello {session.name}")

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SwitchboardError)
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)

    routes = [
        *sign_in_routes(sessions),
        Route("/api/console/secret", secret, methods=["GET", "POST"]),
        Route("/console/compliance", page, methods=["GET"]),
    ]
    return Starlette(routes=with_sessions(routes, sessions), exception_handlers={SwitchboardError: on_error}), sessions


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app_and_sessions(clock: Clock) -> tuple[Starlette, StaffSessions]:
    return small_app(clock)


@pytest.fixture
async def person(app_and_sessions: tuple[Starlette, StaffSessions]) -> AsyncIterator[StaffClient]:
    app, _ = app_and_sessions
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield StaffClient(http)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_sign_in_sets_a_strict_http_only_cookie_and_lands_on_the_role_home(person: StaffClient) -> None:
    response = await person.sign_in(*ANN)
    assert response.status_code == 303 and response.headers["location"] == "/console/compliance"
    cookie = set_cookies(response)[COOKIE]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https below
    assert f"Max-Age={TTL}" in cookie
    assert person.role == "compliance" and person.name == "ann" and len(person.csrf) >= 32
    whoami = (await person.get("/api/console/session")).json()
    assert "gateway_token" not in whoami and ANN[1] not in str(whoami)
    assert (await person.get("/api/console/secret")).json() == {"name": "ann", "method": "GET"}


async def test_the_cookie_is_secure_over_https(app_and_sessions: tuple[Starlette, StaffSessions]) -> None:
    app, _ = app_and_sessions
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        response = await StaffClient(http).sign_in(*ANN)
    assert response.status_code == 303
    assert "Secure" in set_cookies(response)[COOKIE]


async def test_the_cookie_carries_only_an_id_the_store_does_not_keep(
    person: StaffClient, app_and_sessions: tuple[Starlette, StaffSessions]
) -> None:
    _, sessions = app_and_sessions
    await person.sign_in(*ANN)
    value = person.http.cookies[COOKIE]
    assert len(value) >= 40 and ANN[1] not in value and "ann" not in value
    assert value not in repr(vars(sessions._records)), "the store keys sessions by a digest of the cookie"
    assert await sessions.count() == 1


@pytest.mark.parametrize(
    ("name", "token"), [(ANN[0], BOB[1]), (ANN[0], ANN[1] + "x"), ("nobody", ANN[1]), (ANN[0], "")]
)
async def test_a_wrong_name_or_token_is_refused_without_a_session(person: StaffClient, name: str, token: str) -> None:
    response = await person.sign_in(name, token)
    assert response.status_code in (400, 401)
    assert COOKIE not in set_cookies(response) and COOKIE not in person.http.cookies
    assert "do not match" in response.text or token == ""
    assert (await person.get("/api/console/secret")).status_code == 401


async def test_the_refusal_page_shows_the_name_as_text(person: StaffClient) -> None:
    response = await person.sign_in("<script>alert(1)</script>", "nope")
    assert response.status_code == 401
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert 'role="alert"' in response.text


async def test_the_sign_in_form_itself_needs_its_csrf_token(person: StaffClient) -> None:
    await person.sign_in_form()
    missing = await person.http.post("/console/sign-in", data={"name": ANN[0], "token": ANN[1]})
    assert missing.status_code == 403 and COOKIE not in set_cookies(missing)
    wrong = await person.http.post("/console/sign-in", data={"csrf_token": "forged", "name": ANN[0], "token": ANN[1]})
    assert wrong.status_code == 403 and COOKIE not in set_cookies(wrong)
    # A form token that never went through this browser (no pre-sign-in cookie) is refused too.
    person.http.cookies.clear()
    stray = await person.http.post("/console/sign-in", data={"csrf_token": "abc", "name": ANN[0], "token": ANN[1]})
    assert stray.status_code == 403


async def test_signed_out_callers_get_401_and_pages_redirect_to_sign_in(person: StaffClient) -> None:
    assert (await person.get("/api/console/secret")).status_code == 401
    assert (await person.post("/api/console/secret", csrf="")).status_code == 401
    page = await person.get("/console/compliance")
    assert page.status_code == 303 and page.headers["location"] == "/console/sign-in?next=/console/compliance"


async def test_a_role_that_is_not_allowed_gets_403(person: StaffClient) -> None:
    assert (await person.sign_in(*BOB)).status_code == 303
    assert person.role == "agent"
    denied = await person.get("/api/console/secret")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    page = await person.get("/console/compliance")
    assert page.status_code == 403 and "may not" in page.text


async def test_unsafe_methods_need_the_csrf_token(person: StaffClient) -> None:
    await person.sign_in(*ANN)
    assert (await person.post("/api/console/secret", csrf="")).status_code == 403
    assert (await person.post("/api/console/secret", csrf="x" * 43)).status_code == 403
    assert (await person.post("/api/console/secret")).status_code == 200
    as_field = await person.http.post("/api/console/secret", data={"csrf_token": person.csrf})
    assert as_field.status_code == 200
    wrong_field = await person.http.post("/api/console/secret", data={"csrf_token": "nope"})
    assert wrong_field.status_code == 403


async def test_an_expired_session_is_refused(person: StaffClient, clock: Clock) -> None:
    await person.sign_in(*ANN)
    clock.now += TTL - 1
    assert (await person.get("/api/console/secret")).status_code == 200
    clock.now += 2
    expired = await person.get("/api/console/secret")
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "unauthenticated"
    assert (await person.get("/console/compliance")).status_code == 303


async def test_sign_out_needs_csrf_and_ends_the_session_for_good(person: StaffClient) -> None:
    await person.sign_in(*ANN)
    stolen = person.http.cookies[COOKIE]
    refused = await person.http.post("/console/sign-out", data={})
    assert refused.status_code == 403
    assert (await person.get("/api/console/secret")).status_code == 200, "a forged sign-out changes nothing"
    out = await person.sign_out()
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    assert (await person.get("/api/console/secret")).status_code == 401
    # The old cookie value is dead on the server too, not merely deleted in this browser.
    person.http.cookies.set(COOKIE, stolen)
    assert (await person.get("/api/console/secret")).status_code == 401


async def test_signing_in_again_ends_the_session_it_replaces(person: StaffClient) -> None:
    await person.sign_in(*ANN)
    first = person.http.cookies[COOKIE]
    # A second tab still showing the sign-in form (its pre-sign-in cookie and form token) signs in as Bob.
    person.http.cookies.set(SIGN_IN_COOKIE, "tab-two", path="/console/sign-in")
    answer = await person.http.post("/console/sign-in", data={"csrf_token": "tab-two", "name": BOB[0], "token": BOB[1]})
    assert answer.status_code == 303
    assert person.http.cookies.get(COOKIE, path="/") != first
    person.http.cookies.clear()
    person.http.cookies.set(COOKIE, first)
    assert (await person.get("/api/console/secret")).status_code == 401, "Ann's session ended"


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/console/agent", "/console/agent"),
        ("https://evil.example/x", "/console/compliance"),
        ("//evil.example/x", "/console/compliance"),
        ("/console//evil.example", "/console/compliance"),
        ("/console/sign-out", "/console/compliance"),
    ],
)
async def test_only_console_paths_are_followed_after_sign_in(person: StaffClient, target: str, landing: str) -> None:
    response = await person.sign_in(*ANN, next_path=target)
    assert response.headers["location"] == landing


async def test_an_oversized_form_is_refused(person: StaffClient) -> None:
    form_token = await person.sign_in_form()
    response = await person.http.post(
        "/console/sign-in", data={"csrf_token": form_token, "name": "ann", "token": "x" * 20_000}
    )
    assert response.status_code == 413


@pytest.mark.e2e
@pytest.mark.asyncio(loop_scope="session")
async def test_staff_sign_in_on_the_running_stack(running: RunningStack, staff_client: StaffFactory) -> None:
    compliance = await staff_client("compliance")
    assert compliance.role == "compliance"
    agent = await staff_client("agent")
    assert agent.role == "agent"
    async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
        stranger = StaffClient(http)
        assert running.stack.secrets is not None
        name, _ = running.stack.secrets.staff_token("compliance")
        assert (await stranger.sign_in(name, "not-the-token")).status_code == 401
        assert (await stranger.get("/api/console/session")).status_code == 401
    page = await compliance.get("/console/sign-in")
    assert page.status_code == 303, "a signed-in person is sent on to their console"
    assert (await compliance.sign_out()).status_code == 303
    assert (await compliance.get("/api/console/session")).status_code == 401
