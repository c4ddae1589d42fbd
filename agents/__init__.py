"""Specialist agents, each its own A2A server acting only through the governance gateway."""

from agents.runtime.app import agent_names, build_app

__all__ = ["agent_names", "build_app"]
