"""Column types that mean the same on SQLite and PostgreSQL, for tables defined once.

SQLite's ``REAL`` is 8 bytes and PostgreSQL's 4 (epoch seconds would round to minutes), so a
real number is ``DOUBLE PRECISION`` there; JSON documents are ``TEXT`` in SQLite and ``JSONB``
in PostgreSQL; an id the database counts is ``INTEGER PRIMARY KEY AUTOINCREMENT`` in SQLite
(with ``sqlite_autoincrement=True`` on the table) and a 64-bit identity in PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

Real: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Json: sa.types.TypeEngine[str] = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
Counter: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def counter_column(name: str) -> sa.Column[Any]:
    """The table's own ever-increasing primary key (never reused, even after a delete)."""
    return sa.Column(name, Counter, sa.Identity(), primary_key=True)


class json_text(sa.sql.expression.ColumnElement[str]):
    """Field ``field`` of the JSON document in column ``column`` as text, in each dialect's words."""

    type = sa.Text()
    inherit_cache = False

    def __init__(self, column: str, field: str) -> None:
        self.column, self.field = column, field


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({element.column}, '$.{element.field}')"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({element.column}::jsonb ->> '{element.field}')"
