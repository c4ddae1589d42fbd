"""Revisions of the billing system's tables (see docs/migrations.md)."""
