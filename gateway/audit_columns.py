"""The audit table's query columns, apart from the table definitions so the running gateway
reads them without loading SQLAlchemy (only revisions and schema checks need it)."""

# Each derived from the body: never written, so they can never disagree with what was hashed.
QUERY_COLUMNS = ("id", "time", "kind", "conversation_id", "trace_id", "agent", "tool", "customer_id", "decision",
                 "reason", "outcome")  # fmt: skip
