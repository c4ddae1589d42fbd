"""What every command module shares: settings from flags and the environment."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.settings import Settings


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where state lives (default ./data or SWITCHBOARD_DATA_DIR)")
    p.add_argument("--base-port", type=int, help="first port of the embedded layout (default 8700)")
    p.add_argument("--host", help="interface to listen on / talk to (default 127.0.0.1)")


def settings_from(args: argparse.Namespace) -> Settings:
    # Imported here, once a command runs: pydantic-settings is most of what parsing would cost,
    # and ``up`` starts its processes before it.
    from shared.settings import Settings

    overrides = {}
    for name in ("data_dir", "base_port", "host"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)
