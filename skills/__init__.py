"""Skill folders in the open Agent Skills layout, shipped as package data (see shared/skills.py)."""
