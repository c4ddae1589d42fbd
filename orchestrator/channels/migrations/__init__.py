"""Revisions of the channels tables (see docs/migrations.md)."""
