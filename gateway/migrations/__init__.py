"""Revisions of the gateway's tables (see docs/migrations.md)."""
