"""Revisions of the support system's tables (see docs/migrations.md)."""
