"""Cedar policies and their schema, shipped as package data (see gateway/policy.py)."""
