"""What the source tree imports, read with ``ast`` (no module is imported)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def first_party() -> list[str]:
    """The top-level packages the wheel ships, from pyproject's package list."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]]


def source_files(packages: list[str]) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(dotted name, line, at module level) for every absolute import; relative ones resolved.

    ``from P import x`` yields ``P.x``: the submodule when x is one, else an attribute of P (a
    reader resolves it to the longest prefix that is a module). Within a package that is how
    Python loads it too: ``from P import sub`` inside P needs P.sub, not all of P's __init__.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top_level = {id(node) for node in tree.body}
    guarded = {id(n) for node in tree.body if _is_type_checking(node) for n in ast.walk(node)}
    here = module_of(path)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        eager = id(node) in top_level and id(node) not in guarded
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, eager
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = here.split(".") if is_package else here.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                if alias.name != "*":
                    yield f"{base}.{alias.name}", node.lineno, eager


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names
