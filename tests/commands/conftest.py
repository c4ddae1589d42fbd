"""The command tests drive the CLI as its own process against the shared running stack."""

from __future__ import annotations

from tests.consoles.conftest import running, staff_client

__all__ = ["running", "staff_client"]
