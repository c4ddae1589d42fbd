"""Revisions of the payments system's tables (see docs/migrations.md)."""
