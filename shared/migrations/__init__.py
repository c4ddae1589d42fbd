"""Versioned schemas: every store's tables move forward by Alembic revisions, on SQLite and PostgreSQL.

A *store* is one set of tables that lives together: a SQLite file under the data directory, or
one PostgreSQL schema. Each store owns a ``migrations`` package beside its code holding its
revisions (plain Alembic files, ``0001_...py``, ``0002_...py``) and keeps its applied revision in
its own version table (``alembic_version_<store>``), so stores that share a PostgreSQL schema
move independently. ``STORES`` names them; docs/migrations.md says how to add a table or a store.

``upgrade`` is what ``switchboard prepare`` runs for every store, and what each store runs when
it opens (a no-op at the head revision): a data directory or database written by an earlier
release is brought forward in place, row for row.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.database import DatabaseURL

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("switchboard.migrations")

_ALEMBIC_RUNS = threading.Lock()
"""One Alembic command at a time in this process. Taken once the database's lock is held, so a
thread holding it never waits on the database or on another process."""

STORES: dict[str, str] = {
    # store -> the package holding its revisions
    "gateway": "gateway.migrations",
    "conversations": "orchestrator.storage.migrations",
    "channels": "orchestrator.channels.migrations",
    "signals": "orchestrator.signals.migrations",
    "console_sessions": "orchestrator.consoles.migrations",
    "billing": "mcp_servers.billing.migrations",
    "consent": "mcp_servers.consent.migrations",
    "crm": "mcp_servers.crm.migrations",
    "identity": "mcp_servers.identity.migrations",
    "network": "mcp_servers.network.migrations",
    "payments": "mcp_servers.payments.migrations",
    "support": "mcp_servers.support.migrations",
}


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did to one store: the revisions it applied (none when already current)."""

    store: str
    where: str
    before: str | None
    after: str | None
    applied: tuple[str, ...]

    def describe(self) -> str:
        if not self.applied:
            return f"{self.store}: current at {self.after} ({self.where})"
        start = self.before or "no version (created or adopted)"
        return f"{self.store}: {start} -> {self.after}, applied {', '.join(self.applied)} ({self.where})"


def version_table(store: str) -> str:
    return f"alembic_version_{store}"


def _config(store: str) -> Config:
    """A new configuration per use: its ``attributes`` carry one call's connection."""
    from alembic.config import Config

    if store not in STORES:
        raise KeyError(f"unknown store {store!r}; add it to shared.migrations.STORES")
    config = Config()
    config.set_main_option("script_location", str(resources.files(__name__)))
    config.set_main_option("version_locations", str(resources.files(STORES[store])))
    config.set_main_option("path_separator", "os")
    return config


@functools.cache
def _script(store: str) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(store))


def reread_revisions() -> None:
    """Forget the revision files read so far, for a process that has just written one."""
    _script.cache_clear()


def head(store: str) -> str | None:
    """The newest revision of ``store`` this release ships."""
    return _script(store).get_current_head()


def sync_engine(db: DatabaseURL) -> Engine:
    """A blocking engine for migrations and schema checks (psycopg on PostgreSQL), one connection per use."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    if db.kind == "sqlite":
        assert db.path is not None
        db.path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: this runs in a worker thread, and another process may be
        # migrating the same file; BEGIN IMMEDIATE makes the second one wait, then find it done.
        engine = create_engine(f"sqlite:///{db.path}", poolclass=NullPool, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's documented recipe: we BEGIN ourselves

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    assert db.dsn is not None
    settings = db.server_settings()
    options = " ".join(f"-c {key}={value}" for key, value in settings.items() if key == "search_path")
    return create_engine(
        "postgresql+psycopg" + db.dsn[len("postgresql") :],
        poolclass=NullPool,
        connect_args={"options": options, "application_name": settings.get("application_name", "switchboard")},
    )


def _current(conn: Connection, store: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": version_table(store)})
    return context.get_current_revision()


def upgrade(db: DatabaseURL, store: str, *, revision: str = "head") -> Upgrade:
    """Bring ``store`` in ``db`` to ``revision`` (blocking: call it from a worker thread or a command).

    Idempotent and safe when several processes start together: on PostgreSQL an advisory lock,
    on SQLite the write lock, lets one apply the revisions while the others wait and then find
    nothing to do.
    """
    if revision == "head" and (current := _already_at_head(db, store)) is not None:
        return Upgrade(store, db.redacted(), current, current, ())
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    script = _script(store)
    engine = sync_engine(db)
    try:
        with engine.connect() as conn:
            before = _current(conn, store)
            conn.rollback()
            if before == script.get_current_head() and revision == "head":
                return Upgrade(store, db.redacted(), before, before, ())
            if db.is_postgres and db.schema:
                try:
                    with conn.begin():
                        # Serialised: CREATE SCHEMA IF NOT EXISTS alone races another session's.
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"schema.{db.schema}"}
                        )
                        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
                except IntegrityError:
                    pass  # created at the same moment by a session that did not take the lock
            with conn.begin():
                if db.is_postgres:
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _lock_key(db, store)})
                locked_before = _current(conn, store)
                config = _config(store)
                config.attributes["connection"] = conn
                config.attributes["version_table"] = version_table(store)
                # Alembic keeps the running migration's context in module globals (``op``,
                # ``context``): two upgrades on threads of one process at once (replicas
                # started together, systems opened side by side) clobber each other's.
                with _ALEMBIC_RUNS:
                    command.upgrade(config, revision)
                after = _current(conn, store)
    finally:
        engine.dispose()
    applied = tuple(
        reversed([s.revision for s in script.iterate_revisions(after, locked_before or "base")]) if after else ()
    )
    if applied:
        log.info("%s: upgraded %s -> %s", store, locked_before, after)
    return Upgrade(store, db.redacted(), locked_before, after, applied)


def _already_at_head(db: DatabaseURL, store: str) -> str | None:
    """The head revision when ``store`` is at it already, read without Alembic or SQLAlchemy.

    Every store runs ``upgrade`` when it opens, and at every start but the first the answer is
    "nothing to do": loading Alembic, SQLAlchemy and every revision module to find that out
    cost a second and a half of CPU per process. None means "not sure" (no version yet, an
    older one, several heads, anything unexpected), and the full path decides.
    """
    try:
        head = declared_head(store)
        return head if head is not None and _stored_revision(db, store) == head else None
    except Exception as exc:  # the full path reports real problems with the store
        log.debug("%s: quick revision check failed (%s); asking Alembic", store, exc)
        return None


@functools.cache
def declared_head(store: str) -> str | None:
    """The one revision no other revision of ``store`` revises, from the files' ``revision`` and
    ``down_revision`` assignments (parsed, not imported); None unless there is exactly one."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for entry in resources.files(STORES[store]).iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        for node in ast.parse(entry.read_text(encoding="utf-8")).body:
            target, value = _assignment(node)
            if target == "revision" and isinstance(value, str):
                revisions.add(value)
            elif target == "down_revision" and value is not None:
                revised.update((value,) if isinstance(value, str) else value)
    heads = revisions - revised
    return next(iter(heads)) if len(heads) == 1 else None


def _assignment(node: ast.stmt) -> tuple[str | None, Any]:
    """``revision = "0002"`` or ``down_revision: str | None = "0001"`` at module level."""
    target, value = None, None
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, value = node.targets[0].id, node.value
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        target, value = node.target.id, node.value
    if target not in ("revision", "down_revision") or value is None:
        return None, None
    return target, ast.literal_eval(value)


def _stored_revision(db: DatabaseURL, store: str) -> str | None:
    """The revision ``store``'s version table holds, with the bare driver (None: no table, no file)."""
    query = f"SELECT version_num FROM {version_table(store)}"  # a fixed store name, never input
    if db.kind == "sqlite":
        assert db.path is not None
        if not db.path.exists():
            return None
        # Read-only: a check must never create the file or take the write lock.
        with contextlib.closing(sqlite3.connect(f"{db.path.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
            try:
                rows = conn.execute(query).fetchall()
            except sqlite3.OperationalError:  # no version table yet
                return None
    else:
        import psycopg

        assert db.dsn is not None
        settings = db.server_settings()
        options = " ".join(f"-c {key}={value}" for key, value in settings.items() if key == "search_path")
        app = settings.get("application_name", "switchboard")
        with psycopg.connect(db.dsn, options=options, application_name=app, autocommit=True) as conn:
            try:
                rows = conn.execute(query).fetchall()
            except psycopg.errors.UndefinedTable:
                return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _lock_key(db: DatabaseURL, store: str) -> str:
    return f"switchboard.migrations.{db.schema or 'public'}.{store}"


async def migrate(db: DatabaseURL, store: str) -> Upgrade:
    """``upgrade`` to the head, off the event loop."""
    return await asyncio.to_thread(upgrade, db, store)


def sqlite_store(path: Path | str) -> DatabaseURL:
    return DatabaseURL("sqlite", path=Path(path))
