"""Revisions of the network system's tables (see docs/migrations.md)."""
