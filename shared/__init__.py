"""Contracts every Switchboard process imports: envelope, handoff, audit, settings, errors.

Nothing business-specific lives here.
"""
