"""Revisions of the conversations tables (see docs/migrations.md)."""
