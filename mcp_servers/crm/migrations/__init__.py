"""Revisions of the crm system's tables (see docs/migrations.md)."""
