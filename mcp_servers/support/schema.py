"""Support tables (keyed by email): tickets, human handoffs, orders and the knowledge base.

Knowledge search is full-text: an FTS5 table on SQLite, a weighted ``tsvector`` on PostgreSQL
(the same columns, so the dataset writes the same rows to both).
"""

from mcp_servers._sql import postgres_ddl
from mcp_servers.support.orders import SCHEMA as ORDERS

TABLES = """
CREATE TABLE IF NOT EXISTS customers (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES customers(email),
    category TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    repeat_of TEXT,
    agent TEXT,
    audit_id TEXT,
    conversation_id TEXT
);
CREATE INDEX IF NOT EXISTS tickets_by_email ON tickets(email, opened_at);
CREATE TABLE IF NOT EXISTS handoffs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    email TEXT,
    reason TEXT NOT NULL,
    summary TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    agent TEXT,
    audit_id TEXT
);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    steps TEXT NOT NULL,
    tags TEXT NOT NULL
);
"""

_FTS_SQLITE = """
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    article_id UNINDEXED, title, summary, body, tags, tokenize = 'porter unicode61'
);
"""

# Weights A-D follow the SQLite ranking's column weights: title, tags, summary, body.
_FTS_POSTGRES = """
CREATE TABLE IF NOT EXISTS articles_fts (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', tags), 'B')
        || setweight(to_tsvector('english', summary), 'C') || setweight(to_tsvector('english', body), 'D')
    ) STORED
);
CREATE INDEX IF NOT EXISTS articles_fts_document ON articles_fts USING GIN (document);
"""

SCHEMA = TABLES + ORDERS + _FTS_SQLITE
POSTGRES_SCHEMA = postgres_ddl(TABLES + ORDERS) + _FTS_POSTGRES
