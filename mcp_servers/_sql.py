"""The two SQL dialects of the reference backends, and where each system's tables live.

Backends write their SQL once, in the subset SQLite and PostgreSQL share, with ``?``
placeholders; PostgreSQL gets them as ``$1, $2, ...`` (translated once per statement and
cached). Tables are defined once with SQLAlchemy Core in each system's ``tables.py`` and created
by its revisions (``shared.migrations``); what has no counterpart (SQLite's FTS5 tables) a
revision creates per dialect.
"""

from __future__ import annotations

from shared.database import DatabaseURL, to_postgres
from shared.errors import ConfigurationError

__all__ = ["system_database", "to_postgres"]

MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names silently; we refuse them instead


def system_database(db: DatabaseURL, system: str) -> DatabaseURL:
    """Where one system keeps its tables: its own schema, ``<url schema>_<system>`` or ``<system>``."""
    if not db.is_postgres:
        raise ConfigurationError(f"{db.redacted()} is not a PostgreSQL URL")
    schema = f"{db.schema}_{system}" if db.schema else system
    if len(schema) > MAX_IDENTIFIER:
        raise ConfigurationError(
            f"schema name {schema!r} is longer than PostgreSQL's {MAX_IDENTIFIER} characters",
            hint="use a shorter schema in SWITCHBOARD_DATABASE_URL",
        )
    return DatabaseURL("postgresql", dsn=db.dsn, schema=schema)
