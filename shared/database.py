"""Which database holds state, from one URL, and the PostgreSQL plumbing every store shares.

``SWITCHBOARD_DATABASE_URL`` selects the backend:

| URL | backend |
|---|---|
| unset | SQLite files under the data directory (the embedded default) |
| ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` | one SQLite file |
| ``postgresql://user:password@host:5432/db[?schema=name]`` | PostgreSQL (asyncpg) |

``schema`` puts every table in that PostgreSQL schema (created if missing), so several
deployments or test runs can share one database without colliding.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.errors import ConfigurationError, ServiceUnavailable

if TYPE_CHECKING:
    import asyncpg
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("switchboard.database")

T = TypeVar("T")

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
URL_HINT = "use postgresql://user:password@host:5432/database[?schema=name] or sqlite:///path/to/file.db"


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL: a SQLite file or a PostgreSQL DSN (without our ``schema`` option)."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    dsn: str | None = None
    schema: str | None = None

    @classmethod
    def parse(cls, url: str | None, *, default_sqlite: Path) -> DatabaseURL:
        """``url`` or, when it is empty, the SQLite file ``default_sqlite``. Bad URLs raise ConfigurationError."""
        if not url:
            return cls("sqlite", path=Path(default_sqlite))
        parts = urlsplit(url)
        if parts.scheme in ("sqlite", "sqlite+aiosqlite"):
            # SQLAlchemy's convention: three slashes and a relative path, four for an absolute one.
            path = parts.path[1:] if parts.path.startswith("/") else parts.path
            if parts.netloc or not path or path == ":memory:":
                raise ConfigurationError(f"database URL {url!r} names no SQLite file", hint=URL_HINT)
            return cls("sqlite", path=Path(path))
        if parts.scheme in _PG_SCHEMES:
            if not parts.hostname and "host" not in dict(parse_qsl(parts.query)):
                raise ConfigurationError(f"database URL {_redact(url)!r} names no host", hint=URL_HINT)
            query = parse_qsl(parts.query, keep_blank_values=True)
            schema = next((v for k, v in query if k == "schema"), None)
            if schema is not None and not _SCHEMA_NAME.match(schema):
                raise ConfigurationError(
                    f"schema {schema!r} in the database URL is not a plain lower-case identifier",
                    hint="use letters, digits and underscores, starting with a letter",
                )
            rest = urlencode([(k, v) for k, v in query if k != "schema"])
            dsn = urlunsplit(("postgresql", parts.netloc, parts.path, rest, ""))
            return cls("postgresql", dsn=dsn, schema=schema)
        raise ConfigurationError(f"unsupported database URL scheme {parts.scheme or '(none)'!r}", hint=URL_HINT)

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"

    def redacted(self) -> str:
        """For logs and errors: the password never leaves the process."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        return _redact(self.dsn or "") + (f" (schema {self.schema})" if self.schema else "")

    def sqlalchemy_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.path}"
        assert self.dsn is not None
        return "postgresql+asyncpg" + self.dsn[len("postgresql") :]

    def server_settings(self) -> dict[str, str]:
        """Session settings for every connection: our schema first, and a name to spot us by.

        ``application_name`` shows in ``pg_stat_activity`` (what operators monitor); a name the
        URL sets itself wins.
        """
        settings = {"search_path": self.schema} if self.schema else {}
        assert self.dsn is not None
        if "application_name" not in dict(parse_qsl(urlsplit(self.dsn).query)):
            settings["application_name"] = f"switchboard/{self.schema}" if self.schema else "switchboard"
        return settings


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


# What a dropped or restarting server looks like from asyncpg. Retrying on a fresh connection
# is safe for these: the transaction that was running when it happened was rolled back.
def connection_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.InterfaceError,
        # Seen when the server ends a session while the client is mid-protocol.
        asyncpg.InternalClientError,
        ConnectionError,
        OSError,
    )


def pool_size() -> int:
    """``SWITCHBOARD_DB_POOL_SIZE``: the most connections any one pool of a process holds.

    docs/deploy.md adds the pools of every service up; keep the sum under the server's limit.
    """
    from shared.settings import Settings

    return Settings().db_pool_size


async def create_pool(db: DatabaseURL, *, min_size: int = 1, max_size: int | None = None) -> asyncpg.Pool:
    """A connection pool whose sessions see ``db.schema`` first (created here when missing).

    ``max_size`` defaults to the ``db_pool_size`` setting.
    """
    import asyncpg

    max_size = max_size or pool_size()
    min_size = min(min_size, max_size)

    assert db.dsn is not None
    try:
        if db.schema:
            conn = await asyncpg.connect(db.dsn)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"')
            except asyncpg.UniqueViolationError:
                pass  # another replica created it at the same moment
            finally:
                await conn.close()
        return await asyncpg.create_pool(
            db.dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings=db.server_settings(),
            reset=keep_session,
        )
    except (*connection_errors(), asyncpg.PostgresError) as exc:
        raise ServiceUnavailable(
            f"cannot reach PostgreSQL at {db.redacted()}: {exc}",
            hint="check that the server runs and that SWITCHBOARD_DATABASE_URL names it",
        ) from exc


async def keep_session(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs on its way back to the pool beyond asyncpg's own clean-up: nothing.

    asyncpg rolls back a transaction left open and drops the connection's listeners before it
    calls this. Its default reset then sends one more statement (unlock advisory locks, close
    cursors, UNLISTEN, RESET ALL) on every release: a second round trip for each pooled query. Our
    sessions hold none of that: session settings are set at
    connect time (``server_settings``), timeouts are ``SET LOCAL``, advisory locks are
    transaction-scoped (``pg_advisory_xact_lock``), cursors live inside transactions, and LISTEN
    runs on a connection of its own, outside any pool.
    """


_PLACEHOLDER_OR_STRING = re.compile(r"'(?:[^']|'')*'|\?")


@functools.lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """``?`` placeholders as ``$n`` (question marks inside string literals are left alone)."""
    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    return _PLACEHOLDER_OR_STRING.sub(number, sql)


async def open_pool_with_tables(db: DatabaseURL, store: str, *, what: str, max_size: int | None = None) -> asyncpg.Pool:
    """A pool on ``db`` once ``store``'s tables are at this release's revision (``shared.migrations``)."""
    from shared.migrations import migrate

    pool = await create_pool(db, max_size=max_size)
    try:
        await Retry(f"bringing the {what} tables up to date").run(lambda _: migrate(db, store))
    except BaseException:
        await pool.close()
        raise
    return pool


class LazyPool:
    """``open_pool_with_tables`` on first use: for stores built with the app, before a server is needed."""

    def __init__(self, db: DatabaseURL, store: str, *, what: str, max_size: int | None = None) -> None:
        self._open: Callable[[], Awaitable[asyncpg.Pool]] = lambda: open_pool_with_tables(
            db, store, what=what, max_size=max_size
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def get(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await self._open()
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


@dataclass
class Retry:
    """Re-run a database operation on a fresh connection while the server is unreachable.

    The delays add up to a few seconds: enough for a dropped connection or a quick server
    restart, short enough that a customer turn fails with a clear error rather than hanging.
    """

    what: str
    pool: asyncpg.Pool | None = None
    """Its connections are expired after a failure: the one that failed may be half-broken."""
    delays: tuple[float, ...] = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

    async def run(self, operation: Callable[[int], Awaitable[T]]) -> T:
        """Call ``operation(attempt)``; attempt 0 first, then one per retry."""
        errors = connection_errors()
        for attempt, delay in enumerate(self.delays):
            if delay:
                await asyncio.sleep(delay)
            try:
                return await operation(attempt)
            except errors as exc:
                log.warning("%s: database connection lost (%s); retrying", self.what, type(exc).__name__)
                if self.pool is not None:
                    await self.pool.expire_connections()
        raise ServiceUnavailable(
            f"{self.what}: the database is not answering", hint="retry in a moment; nothing was half-written"
        )


def sqlalchemy_engine(db: DatabaseURL, *, pooled: bool = True) -> AsyncEngine:
    """An async SQLAlchemy engine (for a2a-sdk's SQL task store) on the same database.

    ``pooled=False`` on PostgreSQL: no pool, a connection per use (for rare work, so the sizing
    formula counts no idle connections for it).
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    if db.kind == "sqlite":
        assert db.path is not None
        db.path.parent.mkdir(parents=True, exist_ok=True)
        return create_async_engine(db.sqlalchemy_url())
    from sqlalchemy import event
    from sqlalchemy.pool import NullPool

    if not pooled:
        return create_async_engine(
            db.sqlalchemy_url(), poolclass=NullPool, connect_args={"server_settings": db.server_settings()}
        )
    # No overflow: the pool never holds more than the setting, which the sizing formula counts on.
    engine = create_async_engine(
        db.sqlalchemy_url(),
        pool_size=pool_size(),
        max_overflow=0,
        connect_args={"server_settings": db.server_settings()},
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection the server ended (restart, terminated backend) is replaced before use.

    asyncpg notices a closed socket by itself, so asking it costs nothing; SQLAlchemy's
    ``pool_pre_ping`` instead sent BEGIN, an empty query and ROLLBACK on every checkout, three
    round trips for each read of a task. Raising ``DisconnectionError`` here makes the pool
    discard the connection and check out a fresh one (SQLAlchemy's documented recipe).
    """
    from sqlalchemy.exc import DisconnectionError

    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")
