"""Revisions of the consent system's tables (see docs/migrations.md)."""
