"""Alembic's environment for every store: the caller hands over an open connection in a transaction.

``shared.migrations.upgrade`` opens the connection, takes the lock and chooses the version table;
revisions then run in that one transaction (PostgreSQL and SQLite both have transactional DDL),
so a failed upgrade leaves the store as it was.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=config.attributes["version_table"],
    transactional_ddl=True,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
