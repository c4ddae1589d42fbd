"""Revisions of the identity system's tables (see docs/migrations.md)."""
