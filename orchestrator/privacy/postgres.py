"""Data-subject rights when the stores are on PostgreSQL (the scale-out layout, ``compose.yaml``).

One database holds a deployment: the URL's schema (``public`` when it names none) keeps the
conversations, the A2A tasks, the specialists' working state, the signals and the gateway's
audit log; each reference system has its own schema (``<schema>_crm`` …, ``mcp_servers._sql``).
As with the data directory, no list of tables is kept: every ordinary table of those schemas is
read, and every text, JSON and binary column matched, so a table added later is covered.

The gateway's own tables (the audit chain, its raw values, approvals, switches) are left to the
gateway, which erases its raw values itself (``erase-customer`` asks it first); its chain holds
only masked values and the customer id. Changed tables are vacuumed afterwards, so the old row
versions holding the erased values are gone from the tables (docs/governance.md: what stays in
PostgreSQL's own write-ahead log until it is recycled).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.audit_links import LINKED_SQL
from gateway.tables import metadata as gateway_tables
from orchestrator.privacy.erasure import ErasureReport, replaced_row
from orchestrator.privacy.pseudonyms import Pseudonyms
from orchestrator.privacy.stores import Customer, mentions
from shared.database import DatabaseURL
from shared.errors import InvalidRequest, NotFound, ServiceUnavailable
from shared.settings import SYSTEMS

if TYPE_CHECKING:
    import asyncpg

_TEXT_TYPES = frozenset({"text", "character varying", "character", "json", "jsonb"})
_GATEWAY_OWNED = frozenset(gateway_tables.tables)
_CONVERSATIONS = frozenset({"conversations", "transcript"})
_SIGNALS = frozenset({"signal_log", "signal_reactions", "signal_outbox"})


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]
    """(column, data type) of every column that can hold a value: text, JSON or binary."""

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def schemas(db: DatabaseURL) -> dict[str, str]:
    """The deployment's schemas, each with the system it holds (``""``: the shared one)."""
    base = db.schema or "public"
    systems = {f"{db.schema}_{s}" if db.schema else s: s for s in SYSTEMS}
    return {base: "", **systems}


def system_of(table: Table, system: str) -> str:
    """What a table is, in the words the data-directory archive uses (``stores.system_of``)."""
    if system:
        return system
    if table.name in _GATEWAY_OWNED:
        return "audit decisions"
    if table.name in _CONVERSATIONS:
        return "conversations"
    if table.name in _SIGNALS:
        return "network signals"
    if table.name.startswith("checkpoint") or table.name in ("tasks", "a2a_tasks"):
        return "specialists' working state"
    return table.name


async def tables(conn: asyncpg.Connection, names: dict[str, str]) -> list[tuple[Table, str]]:
    rows = await conn.fetch(
        "SELECT c.table_schema, c.table_name, c.column_name, c.data_type"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_schema, c.table_name, c.ordinal_position",
        list(names),
    )
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, name, column, kind in rows:
        columns = found.setdefault((schema, name), [])
        if kind in _TEXT_TYPES or kind == "bytea":
            columns.append((column, kind))
    return [(Table(s, n, tuple(c)), names[s]) for (s, n), c in found.items() if c]


def _matching(table: Table) -> str:
    """Rows with any of ``$1`` (text) in a text or JSON column, or of ``$1`` (bytes) in a binary one."""
    tests = []
    for column, kind in table.columns:
        if kind == "bytea":
            tests.append(
                f"EXISTS (SELECT 1 FROM unnest($1::text[]) v WHERE position(convert_to(v, 'UTF8') IN \"{column}\") > 0)"
            )
        else:
            tests.append(f'EXISTS (SELECT 1 FROM unnest($1::text[]) v WHERE strpos("{column}"::text, v) > 0)')
    columns = ", ".join(f'"{c}"::text' if k in ("json", "jsonb") else f'"{c}"' for c, k in table.columns)
    return f"SELECT ctid::text, {columns} FROM {table.qualified} WHERE {' OR '.join(tests)}"


async def _rows(conn: asyncpg.Connection, table: Table, values: tuple[str, ...]) -> Iterator[tuple[str, list[Any]]]:
    found = await conn.fetch(_matching(table), list(values))
    return ((str(r[0]), list(r[1:])) for r in found)


async def connect(db: DatabaseURL) -> asyncpg.Connection:
    """A connection for an operator command; an unreachable server is a clear error, not a traceback."""
    import asyncpg

    assert db.dsn is not None
    try:
        return await asyncpg.connect(db.dsn, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise ServiceUnavailable(
            f"cannot reach PostgreSQL at {db.redacted()}: {type(exc).__name__}: {exc}",
            hint="check that it runs and that SWITCHBOARD_DATABASE_URL names it, then run this again (nothing changed)",
        ) from None


async def find_customer(db: DatabaseURL, customer_id: str) -> Customer:
    """The customer's identifiers from the identity system of record (its own schema)."""
    if not re.fullmatch(r"CUST-\d{1,12}", customer_id):
        raise InvalidRequest(f"{customer_id!r} is not a unified customer id", hint="e.g. CUST-00042")
    identity = next(s for s, system in schemas(db).items() if system == "identity")
    conn = await connect(db)
    try:
        row = await conn.fetchrow(
            f'SELECT customer_id, email, msisdn, account_number, full_name FROM "{identity}".customers'
            " WHERE customer_id = $1",
            customer_id,
        )
    finally:
        await conn.close()
    if row is None:
        raise NotFound(f"no customer {customer_id} in the identity system", hint="check the id (switchboard customers)")
    return Customer(*row)


async def _about(conn: asyncpg.Connection, db: DatabaseURL, customer: Customer) -> tuple[str, ...]:
    """What else marks a row as the customer's: their conversations and the audit records linked to them."""
    base = f'"{db.schema or "public"}"'
    found: list[str] = []
    if await conn.fetchval("SELECT to_regclass($1)", f"{base}.conversations"):
        rows = await conn.fetch(f"SELECT id FROM {base}.conversations WHERE customer_id = $1", customer.customer_id)
        found += [r[0] for r in rows]
    if await conn.fetchval("SELECT to_regclass($1)", f"{base}.audit"):
        linked = LINKED_SQL["postgresql"].replace("FROM audit", f"FROM {base}.audit").replace("?", "$1")
        rows = await conn.fetch(f"SELECT id FROM {base}.audit WHERE seq IN ({linked})", customer.customer_id)
        found += [r[0] for r in rows]
    return tuple(found)


async def collect(db: DatabaseURL, customer: Customer) -> dict[str, Any]:
    """``{system: {table: [row, …]}}`` for every table of the deployment that holds something about ``customer``."""
    conn = await connect(db)
    try:
        values = tuple(v for v in (*customer.identifiers(), *await _about(conn, db, customer)) if v)
        marks = tuple(v.encode() for v in values)
        found: dict[str, Any] = {}
        for table, system in await tables(conn, schemas(db)):
            names = [c for c, _ in table.columns]
            rows = [
                dict(zip(names, (_cell(v) for v in cells), strict=True))
                for _, cells in await _rows(conn, table, values)
                if any(mentions(cell, marks) for cell in cells)
            ]
            if rows:
                held = found.setdefault(system_of(table, system), {})
                held.setdefault(table.name, []).extend(rows)
    finally:
        await conn.close()
    return found


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            import base64

            return {"base64": base64.b64encode(value).decode()}
    return value


async def conversation_ids(db: DatabaseURL, customer: Customer) -> tuple[str, ...]:
    conn = await connect(db)
    try:
        return await _about(conn, db, customer)
    finally:
        await conn.close()


_FOREIGN_KEYS = (
    "SELECT n.nspname, r.relname, fn.nspname, f.relname, con.conname, pg_get_constraintdef(con.oid)"
    " FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
    " JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace"
    " WHERE con.contype = 'f' AND n.nspname = ANY($1::text[])"
)


async def _update(conn: asyncpg.Connection, table: Table, ctid: str, updates: list[tuple[str, str | bytes]]) -> None:
    kinds = dict(table.columns)
    sets = ", ".join(
        f'"{c}" = ${i}::{kinds[c]}' if kinds[c] in ("json", "jsonb") else f'"{c}" = ${i}'
        for i, (c, _) in enumerate(updates, start=2)
    )
    await conn.execute(
        f"UPDATE {table.qualified} SET {sets} WHERE ctid = ($1::text)::tid", ctid, *(v for _, v in updates)
    )


async def erase(db: DatabaseURL, names: Pseudonyms, report: ErasureReport) -> None:
    """Replace the erased values in every table of the deployment but the gateway's, then vacuum.

    One transaction. A key replaced by its pseudonym (a phone number other tables reference)
    changes in every table at once, so the foreign keys between the changed tables are dropped
    for the transaction and added back before COMMIT, which checks every row again.
    """
    conn = await connect(db)
    try:
        values = tuple(v.decode() for v in (*names.scope, *names.everywhere))
        changed: list[Table] = []
        async with conn.transaction():
            plan = []
            for table, system in await tables(conn, schemas(db)):
                if not system and table.name in _GATEWAY_OWNED:
                    continue
                columns = [c for c, _ in table.columns]
                rows = [(ctid, replaced_row(columns, cells, names)) for ctid, cells in await _rows(conn, table, values)]
                rows = [(ctid, updates) for ctid, updates in rows if updates]
                if rows:
                    plan.append((table, system, rows))
            touched = {(t.schema, t.name) for t, _, _ in plan}
            keys = [
                (Table(k[0], k[1], ()), k[4], k[5])
                for k in await conn.fetch(_FOREIGN_KEYS, list(schemas(db)))
                if (k[0], k[1]) in touched or (k[2], k[3]) in touched
            ]
            for table, name, _ in keys:
                await conn.execute(f'ALTER TABLE {table.qualified} DROP CONSTRAINT "{name}"')
            for table, system, rows in plan:
                for ctid, updates in rows:
                    await _update(conn, table, ctid, updates)
                report.add(system_of(table, system), sum(len(u) for _, u in rows))
                changed.append(table)
            for table, name, definition in keys:
                await conn.execute(f'ALTER TABLE {table.qualified} ADD CONSTRAINT "{name}" {definition}')
        for table in changed:
            # The replaced row versions are dead tuples until vacuumed; VACUUM cannot run in a transaction.
            await conn.execute(f"VACUUM {table.qualified}")
    finally:
        await conn.close()
