"""Where the data files shipped inside the packages live (policies, skills, evals, web pages).

They are package data, found through :mod:`importlib.resources`, so a wheel installed into
site-packages finds them exactly as a source checkout does. pip installs wheels unzipped, so
every such directory is a real folder on disk; the loaders that glob and read it take a ``Path``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from shared.errors import ConfigurationError


def package_dir(package: str, *parts: str) -> Path:
    """The folder of ``package`` (optionally a sub-folder), as a filesystem path.

    Raises ConfigurationError when the package is importable only from an archive (a zipped
    install), where the shipped files have no path to glob.
    """
    root = files(package).joinpath(*parts)
    if not isinstance(root, Path):
        raise ConfigurationError(
            f"the data files of {package!r} are inside an archive ({root!r})",
            hint="install Switchboard unzipped (pip install switchboard does)",
        )
    return root
