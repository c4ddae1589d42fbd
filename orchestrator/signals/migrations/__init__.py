"""Revisions of the network-signal tables (see docs/migrations.md)."""
