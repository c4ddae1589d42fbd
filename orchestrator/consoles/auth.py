"""Staff sign-in for the consoles: server-side sessions, secure cookies, CSRF, roles.

A person signs in at ``/console/sign-in`` with their staff name and token (``Secrets.staff_tokens``).
The browser then holds only the cookie ``sb_session``: an unguessable id, HttpOnly,
SameSite=Strict, Secure over https. Everything else stays on the server, including the
person's own staff token, which the consoles present to the governance gateway on their
behalf so the gateway records *them* (never a shared service identity) as the decider.

Every unsafe request (POST/PUT/PATCH/DELETE) under ``/console/`` or ``/api/console/`` must
carry the session's CSRF token in ``X-CSRF-Token`` or a ``csrf_token`` form field. The
sign-in form itself is protected by a double-submitted pre-session token, so a hostile page
cannot sign a browser in as someone else either.

Routes use :func:`require_staff` (JSON endpoints) or :func:`page_guard` (HTML pages); both
find the session store through the request scope, which :func:`console_routes` sets up.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.consoles.sessions import MemorySessionRecords, SessionRecord, SessionRecords
from orchestrator.consoles.staff_gateway import GatewayRefused, StaffGateway
from shared.errors import Forbidden, InvalidRequest, PayloadTooLarge, SwitchboardError, Unauthenticated
from shared.secrets import STAFF_ROLES, StaffCredential, StaffRole

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "ConsoleSettings",
    "GatewayRefused",
    "StaffGateway",
    "StaffSession",
    "StaffSessions",
    "page_guard",
    "require_staff",
    "sign_in_routes",
    "with_sessions",
]

log = logging.getLogger("switchboard.consoles")

COOKIE = "sb_session"
SIGN_IN_COOKIE = "sb_sign_in"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 8 * 1024
SCOPE_KEY = "switchboard.console_sessions"
STATIC_DIR = Path(__file__).parent / "static"
HOME_BY_ROLE: dict[str, str] = {
    "agent": "/console/agent",
    "approver": "/console/agent",
    "supervisor": "/console/agent",
    "compliance": "/console/compliance",
    "admin": "/console/compliance",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ConsoleSettings(BaseSettings):
    """What an operator tunes about staff sessions (``SWITCHBOARD_CONSOLE_*``)."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_CONSOLE_", extra="ignore")

    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, description="a session ends this long after sign-in")
    max_sessions: int = Field(default=10_000, ge=10, description="oldest sessions are dropped past this")
    gateway_timeout_seconds: float = Field(default=15.0, gt=0)
    case_idle_seconds: float = Field(
        default=600.0, gt=0, description="a take-over lapses when its holder has not acted on the case this long"
    )
    seconds_per_case: float = Field(
        default=180.0, gt=0, description="expected handling time per case ahead, for the wait customers are told"
    )


class StaffSession(BaseModel):
    """One signed-in person. ``gateway_token`` never leaves the server (excluded from dumps)."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: StaffRole
    csrf_token: str
    expires_at: datetime
    gateway_token: str = Field(repr=False, exclude=True)


class StaffSessions:
    """Server-side sessions, keyed by a digest of the cookie so the store never holds a usable id.

    The records live in memory by default or in PostgreSQL for replicas (``sessions.py``).
    """

    def __init__(
        self,
        accounts: Mapping[str, StaffCredential],
        settings: ConsoleSettings | None = None,
        clock: Callable[[], float] = time.time,
        records: SessionRecords | None = None,
    ) -> None:
        self._accounts = {name: (cred.token, cred.role) for name, cred in accounts.items()}
        self.settings = settings or ConsoleSettings()
        self._clock = clock
        self._records = records if records is not None else MemorySessionRecords()
        self._sign_out_listeners: list[Callable[[str], Awaitable[None]]] = []

    async def sign_in(self, name: str, token: str) -> tuple[str, StaffSession] | None:
        """(cookie value, session) when ``name`` and ``token`` match an account, else None."""
        account = self._accounts.get(name)
        # Compare against something even for an unknown name, so timing does not reveal names.
        expected, role = account if account else ("\0" * 43, None)
        if not hmac.compare_digest(token.encode(), expected.encode()) or role is None:
            return None
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        record = SessionRecord(name, role, secrets.token_urlsafe(32), now + self.settings.session_ttl_seconds)
        await self._records.put(_key(session_id), record, now=now, keep=self.settings.max_sessions)
        return session_id, self._session(record, token)

    async def get(self, session_id: str | None) -> StaffSession | None:
        if not session_id:
            return None
        record = await self._records.get(_key(session_id))
        if record is None or record.expires_at <= self._clock():
            return None
        account = self._accounts.get(record.name)
        if account is None or account[1] != record.role:
            return None  # the account was removed or its role changed since sign-in
        return self._session(record, account[0])

    async def end(self, session_id: str | None) -> None:
        if session_id:
            await self._records.delete(_key(session_id))

    async def signed_in(self, name: str) -> bool:
        """Whether ``name`` has a live session whose account still exists."""
        return name in self._accounts and await self._records.signed_in(name, self._clock())

    def role_of(self, name: str) -> str | None:
        account = self._accounts.get(name)
        return account[1] if account else None

    def on_sign_out(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """``listener(name)`` runs after a person signs out (their cases go back to the queue)."""
        self._sign_out_listeners.append(listener)

    async def signed_out(self, name: str) -> None:
        for listener in self._sign_out_listeners:
            await listener(name)

    async def count(self) -> int:
        """Stored sessions, expired ones not yet dropped included."""
        return await self._records.count()

    async def close(self) -> None:
        await self._records.close()

    @staticmethod
    def _session(record: SessionRecord, token: str) -> StaffSession:
        return StaffSession(
            name=record.name,
            role=record.role,
            csrf_token=record.csrf_token,
            expires_at=datetime.fromtimestamp(record.expires_at, UTC),
            gateway_token=token,
        )


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def with_sessions(routes: list[BaseRoute], sessions: StaffSessions) -> list[BaseRoute]:
    """Give every route's requests access to ``sessions`` (how :func:`require_staff` finds them)."""
    for route in routes:
        inner = getattr(route, "app", None)
        if inner is not None:
            # BaseRoute declares no app; the routes that have one (Route, Mount, ...) were found above.
            route.app = _SessionScope(inner, sessions)  # type: ignore[attr-defined]
    return routes


class _SessionScope:
    def __init__(self, app: ASGIApp, sessions: StaffSessions) -> None:
        self.app, self.sessions = app, sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_KEY] = self.sessions
        await self.app(scope, receive, send)


def _sessions(request: Request) -> StaffSessions:
    sessions = request.scope.get(SCOPE_KEY)
    if not isinstance(sessions, StaffSessions):
        raise SwitchboardError("console route served without sessions; build it through console_routes()")
    return sessions


async def require_staff(request: Request, roles: Collection[str]) -> StaffSession:
    """The signed-in person, if their role is in ``roles``; checks CSRF on unsafe methods.

    Raises ``Unauthenticated`` (401) when nobody is signed in or the session expired, and
    ``Forbidden`` (403) for a wrong role or a missing/wrong CSRF token.
    """
    session = await _sessions(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise Unauthenticated("sign in to the console first", hint="open /console/sign-in")
    if request.method in UNSAFE:
        presented = request.headers.get(CSRF_HEADER) or (await _form(request)).get(CSRF_FIELD, "")
        if not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
            raise Forbidden("the CSRF token is missing or wrong", hint="reload the console page and try again")
    if session.role not in roles:
        raise Forbidden(
            f"{session.name} (role {session.role!r}) may not do this",
            hint=f"needs one of {', '.join(sorted(roles))}",
        )
    return session


async def page_guard(request: Request, roles: Collection[str]) -> StaffSession | Response:
    """For HTML pages: the session, or a redirect to sign-in (401) / a styled refusal (403)."""
    try:
        return await require_staff(request, roles)
    except Unauthenticated:
        return RedirectResponse(f"/console/sign-in?next={quote(request.url.path)}", status_code=303)
    except Forbidden as exc:
        return HTMLResponse(
            _page(
                "Not allowed",
                f'<p role="alert" class="error">{html.escape(exc.message)}.</p>'
                f"<p>{html.escape(exc.hint or '')}</p>"
                '<p><a href="/console/sign-in">Sign in as someone else</a></p>',
            ),
            status_code=403,
            headers=SECURITY_HEADERS,
        )


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form fields (first of each); the body stays readable by the handler."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise InvalidRequest("a form post must declare its Content-Length")
    if int(declared) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"the form is over {MAX_FORM_BYTES} bytes")
    body = await request.body()  # cached on the request, so the handler can read it again
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise InvalidRequest("the form is not UTF-8") from None
    found: dict[str, str] = {}
    for name, value in fields:
        found.setdefault(name, value)
    return found


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int, path: str = "/") -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _safe_next(target: str | None, role: str) -> str:
    """Only a console path of this site: never an open redirect."""
    if target and target.startswith("/console/") and not target.startswith("/console/sign-") and "//" not in target:
        return target
    return HOME_BY_ROLE.get(role, "/console/compliance")


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)} · Switchboard console</title>"
        '<link rel="stylesheet" href="/console/static/console.css"></head>'
        f'<body class="narrow"><main class="card" id="main"><h1>{html.escape(title)}</h1>{body}</main></body></html>'
    )


def sign_in_routes(sessions: StaffSessions) -> list[BaseRoute]:
    """``GET/POST /console/sign-in``, ``POST /console/sign-out`` and ``/console`` (home)."""
    template = (STATIC_DIR / "sign-in.html").read_text(encoding="utf-8")
    ttl = sessions.settings.session_ttl_seconds

    def form_page(request: Request, form_token: str, *, error: str = "", name: str = "", status: int = 200) -> Response:
        page = (
            template.replace("{{csrf}}", html.escape(form_token))
            .replace("{{next}}", html.escape(request.query_params.get("next", "") or ""))
            .replace("{{name}}", html.escape(name))
            .replace("{{error}}", f'<p id="error" class="error" role="alert">{html.escape(error)}</p>' if error else "")
            .replace("{{described}}", "error" if error else "sign-in-help")
        )
        response = HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)
        _cookie(response, request, SIGN_IN_COOKIE, form_token, max_age=3600, path="/console/sign-in")
        return response

    async def show(request: Request) -> Response:
        current = await sessions.get(request.cookies.get(COOKIE))
        if current is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next"), current.role), status_code=303)
        return form_page(request, secrets.token_urlsafe(32))

    async def submit(request: Request) -> Response:
        fields = await _form(request)
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        presented = fields.get(CSRF_FIELD, "")
        if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            return form_page(
                request,
                secrets.token_urlsafe(32),
                error="This sign-in form expired or came from elsewhere. Please sign in again.",
                status=403,
            )
        name, token = fields.get("name", "").strip(), fields.get("token", "").strip()
        signed = await sessions.sign_in(name, token) if name and token else None
        if signed is None:
            log.warning("console sign-in refused for %r", name[:64])
            return form_page(
                request, secrets.token_urlsafe(32), error="That name and token do not match.", name=name, status=401
            )
        session_id, session = signed
        await sessions.end(request.cookies.get(COOKIE))  # a browser holds one session; the one it replaces ends
        log.info("console sign-in: %s (%s)", session.name, session.role)
        response = RedirectResponse(_safe_next(fields.get("next"), session.role), status_code=303)
        _cookie(response, request, COOKIE, session_id, max_age=ttl)
        response.delete_cookie(SIGN_IN_COOKIE, path="/console/sign-in")
        return response

    async def sign_out(request: Request) -> Response:
        session_id = request.cookies.get(COOKIE)
        session = await sessions.get(session_id)
        if session is not None:
            presented = request.headers.get(CSRF_HEADER) or (await _form(request)).get(CSRF_FIELD, "")
            if not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
                raise Forbidden("the CSRF token is missing or wrong", hint="sign out from the console page")
            await sessions.end(session_id)
            log.info("console sign-out: %s", session.name)
            await sessions.signed_out(session.name)
        response = RedirectResponse("/console/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def home(request: Request) -> Response:
        current = await sessions.get(request.cookies.get(COOKIE))
        return RedirectResponse(
            HOME_BY_ROLE.get(current.role, "/console/sign-in") if current else "/console/sign-in", status_code=303
        )

    async def whoami(request: Request) -> Response:
        session = await require_staff(request, STAFF_ROLES)
        return JSONResponse(session.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    return [
        Route("/console", home, methods=["GET"]),
        Route("/console/", home, methods=["GET"]),
        Route("/console/sign-in", show, methods=["GET"]),
        Route("/console/sign-in", submit, methods=["POST"]),
        Route("/console/sign-out", sign_out, methods=["POST"]),
        Route("/api/console/session", whoami, methods=["GET"]),
    ]
