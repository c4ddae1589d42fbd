"""Revisions of the console sessions tables (see docs/migrations.md)."""
